// Placeholder until the lmdb backend lands: every use fails loudly.
#include "backend.h"

namespace opossum::bench {

std::unique_ptr<Backend> NewLmdbBackend() { throw BenchError("lmdb backend: not built yet"); }

}  // namespace opossum::bench
