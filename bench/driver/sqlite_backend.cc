// Placeholder until the sqlite backend lands: every use fails loudly.
#include "backend.h"

namespace opossum::bench {

std::unique_ptr<Backend> NewSqliteBackend() { throw BenchError("sqlite backend: not built yet"); }

}  // namespace opossum::bench
