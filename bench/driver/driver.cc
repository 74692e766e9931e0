#include "driver.h"

#include <algorithm>
#include <ctime>

#include "backend.h"
#include "report.h"
#include "workloads.h"

namespace opossum::bench {
namespace {

const std::vector<std::string> kBackendNames = {"opossum", "sqlite", "lmdb", "limit"};

std::unique_ptr<Backend> MakeBackend(const std::string& name) {
  if (name == "opossum") return NewOpossumBackend();
  if (name == "sqlite") return NewSqliteBackend();
  if (name == "lmdb") return NewLmdbBackend();
  throw BenchError("unknown backend: " + name + " (opossum, sqlite, lmdb, limit)");
}

std::string Now() {
  char buf[64];
  std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return buf;
}

std::vector<WorkloadSpec> Plan(const DriverOptions& o) {
  const auto& all = WorkloadNames();
  for (const auto& w : o.workloads) {
    if (std::find(all.begin(), all.end(), w) == all.end()) {
      std::string names;
      for (const auto& n : all) names += (names.empty() ? "" : ", ") + n;
      throw BenchError("unknown workload: " + w + " (" + names + ")");
    }
  }
  std::vector<WorkloadSpec> plan;
  for (const auto& w : all) {
    if (!o.workloads.empty() &&
        std::find(o.workloads.begin(), o.workloads.end(), w) == o.workloads.end()) {
      continue;
    }
    if (w.rfind("scale_", 0) == 0) {
      for (uint64_t n : o.scale_sizes) plan.push_back({w, n});
    } else if (w.rfind("append_", 0) == 0) {
      plan.push_back({w, 0});
    } else {
      plan.push_back({w, o.read_store});
    }
  }
  return plan;
}

void CheckSize(uint64_t n) {
  // Each of n/10 tags holds ten events, and read_last relies on it.
  if (n < 20 || n % 10 != 0) {
    throw BenchError("store sizes must be multiples of 10, at least 20: " + std::to_string(n));
  }
}

}  // namespace

DriverOptions TinyOptions(DriverOptions o) {
  o.seconds = 0.05;
  o.threads = 64;
  o.read_store = 2000;
  o.scale_sizes = {1000, 2000, 5000};
  return o;
}

void RunDriver(const DriverOptions& o, std::ostream& out, std::ostream& err) {
  const std::vector<std::string> backends = o.backends.empty() ? kBackendNames : o.backends;
  std::vector<std::unique_ptr<Backend>> stores;
  bool limit = false;
  for (const auto& name : backends) {
    if (name == "limit") {
      limit = true;
    } else {
      stores.push_back(MakeBackend(name));
    }
  }
  CheckSize(o.read_store);
  for (uint64_t n : o.scale_sizes) CheckSize(n);
  const std::vector<WorkloadSpec> plan = Plan(o);

  std::filesystem::create_directories(o.dir);
  const auto dir = std::filesystem::absolute(o.dir);
  RunConfig config;
  config.dir = dir;
  config.seconds = o.seconds;
  config.many_threads = o.threads;
  config.read_store = o.read_store;
  if (o.progress)
    config.progress = [&err](const std::string& line) { err << "bench: " << line << std::endl; };

  const MachineInfo machine = ProbeMachine(dir);
  out << "opossum bench, " << Now() << "\n";
  PrintMachine(machine, dir, out);
  out << "run:        " << o.seconds << " s per workload and backend; " << o.threads
      << " threads for *_64; read store " << o.read_store
      << " events; events of 100 B JSON data, 2 tags\n";
  for (const auto& b : stores) {
    out << "backend:    " << b->name() << ": sync = " << b->Describe(Durability::kSync)
        << "; buffered = " << b->Describe(Durability::kBuffered) << "\n";
  }
  if (limit)
    out << "backend:    limit: pwrite + fdatasync of the same bytes; memory scans for reads\n";
  out << std::flush;

  std::vector<Result> results;
  for (const WorkloadSpec& spec : plan) {
    for (auto& b : stores) {
      if (config.progress) config.progress(spec.name + " " + std::string(b->name()));
      results.push_back(RunWorkload(spec, *b, config));
    }
    if (limit) {
      if (config.progress) config.progress(spec.name + " limit");
      results.push_back(RunLimit(spec, config));
    }
  }
  out << "\n";
  PrintRates(results, out);
  out << "\n";
  PrintLatencies(results, out);
  const auto csv = o.csv.empty() ? dir / "results.csv" : o.csv;
  WriteCsv(results, machine, csv);
  out << "\ncsv: " << csv.string() << "\n";
}

}  // namespace opossum::bench
