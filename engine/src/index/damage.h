// How a damaged index is reported: what is wrong and where, then the remedy.
// The indexes are derived data (docs/format-index.md), so the remedy is
// always the same.
#ifndef OPOSSUM_INDEX_DAMAGE_H_
#define OPOSSUM_INDEX_DAMAGE_H_

#include <string>

#include "opossum/status.h"

namespace opossum::index {

// kCorruption: `what` ("<file> offset <n>: what is wrong there"), then the
// remedy in parentheses.
inline Status Damaged(const std::string& what) {
  return Status::Corruption(what +
                            " (it is derived data: remove the index folder while no process uses "
                            "the store, and reopen to rebuild it)");
}

}  // namespace opossum::index

#endif  // OPOSSUM_INDEX_DAMAGE_H_
