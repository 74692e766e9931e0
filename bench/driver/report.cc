#include "report.h"

#include <fcntl.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "backend.h"

namespace opossum::bench {

double Latencies::QuantileUs(double q) {
  if (ns.empty()) return 0;
  const size_t k = std::min(ns.size() - 1, static_cast<size_t>(q * static_cast<double>(ns.size())));
  std::nth_element(ns.begin(), ns.begin() + static_cast<ptrdiff_t>(k), ns.end());
  return ns[k] / 1000.0;
}

namespace {

// The device of the longest mount point that holds `dir` (/proc/mounts).
std::string DeviceOf(const std::filesystem::path& dir) {
  std::ifstream mounts("/proc/mounts");
  std::string dev, mnt, rest, best_dev = "unknown";
  size_t best = 0;
  const std::string d = std::filesystem::weakly_canonical(dir).string();
  while (mounts >> dev >> mnt && std::getline(mounts, rest)) {
    if (d.compare(0, mnt.size(), mnt) == 0 && mnt.size() >= best) {
      best = mnt.size();
      best_dev = dev;
    }
  }
  return best_dev;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::string Fixed(double v) {
  char buf[64];
  if (v >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else if (v >= 10) {
    std::snprintf(buf, sizeof buf, "%.1f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f", v);
  }
  return buf;
}

// 1234567 -> "1,234,567"; 2.5e7 -> "25.0 M".
std::string Rate(double v) {
  if (v >= 1e7) return Fixed(v / 1e6) + " M";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  std::string s = buf, out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(s[i]);
  }
  return out;
}

std::string RowName(const Result& r) {
  return r.store_events > 0 && r.workload.rfind("scale", 0) == 0
             ? r.workload + "@" + std::to_string(r.store_events)
             : r.workload;
}

void PrintTable(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (size_t i = 0; i < rows[r].size(); ++i) {
      const std::string& cell = rows[r][i];
      std::string pad(width[i] - cell.size(), ' ');
      line += i == 0 ? cell + pad : "  " + pad + cell;
    }
    out << line << "\n";
    if (r == 0) out << std::string(line.size(), '-') << "\n";
  }
}

// Backends in the order they first appear, "opossum" first.
std::vector<std::string> BackendsOf(const std::vector<Result>& results) {
  std::vector<std::string> names;
  for (const auto& r : results) {
    if (std::find(names.begin(), names.end(), r.backend) == names.end()) names.push_back(r.backend);
  }
  std::stable_partition(names.begin(), names.end(), [](const auto& n) { return n == "opossum"; });
  return names;
}

std::vector<std::string> RowsOf(const std::vector<Result>& results) {
  std::vector<std::string> rows;
  for (const auto& r : results) {
    if (std::find(rows.begin(), rows.end(), RowName(r)) == rows.end()) rows.push_back(RowName(r));
  }
  return rows;
}

const Result* Find(const std::vector<Result>& results, const std::string& row,
                   const std::string& backend) {
  for (const auto& r : results) {
    if (RowName(r) == row && r.backend == backend) return &r;
  }
  return nullptr;
}

}  // namespace

std::string FileSystemOf(const std::filesystem::path& p) {
  struct statfs fs {};
  if (::statfs(p.c_str(), &fs) != 0) return "unknown";
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x01021994:
      return "tmpfs";
    case 0x794C7630:
      return "overlayfs";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(fs.f_type));
      return buf;
    }
  }
}

MachineInfo ProbeMachine(const std::filesystem::path& dir) {
  MachineInfo m;
  m.cpu = CpuModel();
  m.cores = static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN));
  struct sysinfo si {};
  if (::sysinfo(&si) == 0) m.memory_bytes = static_cast<uint64_t>(si.totalram) * si.mem_unit;
  struct utsname u {};
  if (::uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release;
  m.file_system = FileSystemOf(dir);
  m.device = DeviceOf(dir);

  // The disk's sync: 4 KiB pwrite + fdatasync into a preallocated file, 200 times.
  const auto path = dir / "fdatasync-probe.dat";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw BenchError("probe: open " + path.string() + ": " + std::strerror(errno));
  constexpr int kWrites = 200;
  constexpr size_t kBytes = 4096;
  Latencies lat;
  const std::string page(kBytes, 'p');
  bool ok = ::posix_fallocate(fd, 0, kWrites * kBytes) == 0 && ::fsync(fd) == 0;
  for (int i = 0; ok && i < kWrites; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    ok = ::pwrite(fd, page.data(), kBytes, static_cast<off_t>(i * kBytes)) ==
             static_cast<ssize_t>(kBytes) &&
         ::fdatasync(fd) == 0;
    lat.Add(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
            .count()));
  }
  const int err = errno;
  ::close(fd);
  std::filesystem::remove(path);
  if (!ok) throw BenchError("probe: pwrite/fdatasync: " + std::string(std::strerror(err)));
  m.fdatasync_p50_us = lat.QuantileUs(0.5);
  m.fdatasync_p99_us = lat.QuantileUs(0.99);
  return m;
}

void PrintMachine(const MachineInfo& m, const std::filesystem::path& dir, std::ostream& out) {
  out << "machine:    " << m.cpu << ", " << m.cores << " cores, "
      << Fixed(static_cast<double>(m.memory_bytes) / (1ull << 30)) << " GiB, " << m.kernel << "\n"
      << "data:       " << dir.string() << " (" << m.file_system << " on " << m.device << ")\n"
      << "fdatasync:  4 KiB pwrite + fdatasync p50 " << Fixed(m.fdatasync_p50_us) << " us, p99 "
      << Fixed(m.fdatasync_p99_us) << " us (about " << Rate(1e6 / m.fdatasync_p50_us)
      << " syncs/s)\n";
}

void PrintRates(const std::vector<Result>& results, std::ostream& out) {
  const auto backends = BackendsOf(results);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"workload", "durability", "unit"};
  for (const auto& b : backends) header.push_back(b);
  for (const auto& b : backends) {
    if (b != "opossum") header.push_back("x " + b);
  }
  rows.push_back(header);
  for (const auto& name : RowsOf(results)) {
    const Result* own = Find(results, name, "opossum");
    std::vector<std::string> row = {name, "", ""};
    for (const auto& b : backends) {
      const Result* r = Find(results, name, b);
      if (r != nullptr && row[1].empty()) {
        row[1] = r->durability;
        row[2] = r->unit;
      }
      row.push_back(r != nullptr ? Rate(r->rate()) : "");
    }
    for (const auto& b : backends) {
      if (b == "opossum") continue;
      const Result* r = Find(results, name, b);
      row.push_back(own != nullptr && r != nullptr && r->rate() > 0 ? Fixed(own->rate() / r->rate())
                                                                    : "");
    }
    rows.push_back(row);
  }
  PrintTable(rows, out);
  out << "(x peer: this store's rate divided by the peer's; above 1 this store is faster;\n"
         " x limit: the fraction of the bare disk's or memory's rate this store reaches)\n";
}

void PrintLatencies(const std::vector<Result>& results, std::ostream& out) {
  const auto backends = BackendsOf(results);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"workload (us per op)"};
  for (const auto& b : backends) header.push_back(b + " p50/p99/p999");
  rows.push_back(header);
  for (const auto& name : RowsOf(results)) {
    std::vector<std::string> row = {name};
    bool any = false;
    for (const auto& b : backends) {
      const Result* r = Find(results, name, b);
      if (r == nullptr || r->p50_us == 0) {
        row.push_back("");
        continue;
      }
      any = true;
      std::string cell = Fixed(r->p50_us) + " / " + Fixed(r->p99_us) + " / " + Fixed(r->p999_us);
      if (r->conflict_pct >= 0) cell += " (" + Fixed(r->conflict_pct) + "% conflicts)";
      row.push_back(cell);
    }
    if (any) rows.push_back(row);
  }
  PrintTable(rows, out);
}

void WriteCsv(const std::vector<Result>& results, const MachineInfo& m,
              const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) throw BenchError("csv: cannot write " + path.string());
  out << "# cpu=" << m.cpu << "; cores=" << m.cores << "; fs=" << m.file_system
      << "; fdatasync_p50_us=" << Fixed(m.fdatasync_p50_us) << "\n";
  out << "workload,backend,durability,store_events,threads,ops,items,unit,seconds,rate,"
         "p50_us,p99_us,p999_us,conflict_pct\n";
  for (const auto& r : results) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%s,%s,%s,%llu,%d,%llu,%llu,%s,%.6f,%.1f,%.3f,%.3f,%.3f,%s\n",
                  r.workload.c_str(), r.backend.c_str(), r.durability.c_str(),
                  static_cast<unsigned long long>(r.store_events), r.threads,
                  static_cast<unsigned long long>(r.ops), static_cast<unsigned long long>(r.items),
                  r.unit.c_str(), r.seconds, r.rate(), r.p50_us, r.p99_us, r.p999_us,
                  r.conflict_pct >= 0 ? Fixed(r.conflict_pct).c_str() : "");
    out << buf;
  }
  if (!out.flush()) throw BenchError("csv: cannot write " + path.string());
}

}  // namespace opossum::bench
