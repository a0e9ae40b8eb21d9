// hwdb-bench: how fast Hwdb opens a hwdb.bin and answers lookups, over this machine's
// modaliases (/sys/devices/**/modalias) and a fixed set of typical keys, on one thread and
// on every core sharing one mapping. Prints figures; asserts nothing.
//
// usage: hwdb-bench HWDB_BIN [SECONDS]
//   e.g. hwdb-bench build/hwdb-root/lib/udev/hwdb.bin   (test/fixtures/make-hwdb.sh builds it)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/hwdb.h"

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> Modaliases() {
  std::vector<std::string> keys = {
      "usb:v046DpC52Bd1201dc00dsc00dp00ic03isc01ip01in00",
      "usb:v1D6Bp0002*",
      "pci:v00008086d00001237sv00000000sd00000000bc06sc00i00",
      "pci:v000010DEd00001C82sv00001043sd00008613bc03sc00i00",
      "input:b0003v046DpC52Be0111-e0,1,2,4,k110,111,112,r0,1,8,am4,lsfw",
      "evdev:input:b0011v0001p0001eAB41-e0,1,4,11,14,k71,72,73,ramlsfw",
      "evdev:atkbd:dmi:bvnLENOVO:bvrN2HET:bd05/2020:svnLENOVO:pn20QDCTO1WW:pvrThinkPadX1:",
      "acpi:PNP0A08:PNP0A03:",
      "OUI:0050C2ABC",
      "nothing:matches:this",
  };
  std::error_code error;
  namespace fs = std::filesystem;
  for (auto it = fs::recursive_directory_iterator(
           "/sys/devices", fs::directory_options::skip_permission_denied, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (it->path().filename() != "modalias") continue;
    std::ifstream in(it->path());
    std::string line;
    if (std::getline(in, line) && !line.empty()) keys.push_back(line);
  }
  return keys;
}

// Lookups done in `seconds` by `threads` threads sharing hwdb.
double LookupsPerSecond(const vdev::Hwdb& hwdb, const std::vector<std::string>& keys,
                        double seconds, unsigned threads, size_t* properties) {
  std::vector<size_t> counts(threads), found(threads);
  std::vector<std::thread> workers;
  auto start = Clock::now();
  auto end = start + std::chrono::duration<double>(seconds);
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      size_t i = t;
      while (Clock::now() < end) {
        for (int batch = 0; batch < 64; ++batch, ++i) {
          auto result = hwdb.Lookup(keys[i % keys.size()]);
          if (result) found[t] += result->size();
          ++counts[t];
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  size_t total = 0;
  *properties = 0;
  for (unsigned t = 0; t < threads; ++t) {
    total += counts[t];
    *properties += found[t];
  }
  return total / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s HWDB_BIN [SECONDS]\n", argv[0]);
    return 2;
  }
  double seconds = argc > 2 ? atof(argv[2]) : 2.0;
  auto start = Clock::now();
  auto hwdb = vdev::Hwdb::Open(argv[1]);
  double open_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (!hwdb) {
    fprintf(stderr, "%s\n", hwdb.error().Message().c_str());
    return 1;
  }
  std::vector<std::string> keys = Modaliases();
  printf("hwdb: %s, %zu bytes, opened in %.3f ms; %zu keys\n", argv[1], hwdb->size(), open_ms,
         keys.size());
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned threads : {1u, cores}) {
    size_t properties = 0;
    double rate = LookupsPerSecond(*hwdb, keys, seconds, threads, &properties);
    printf("hwdb: %u thread%s: %.0f lookups/s (%.2f us each per thread)\n", threads,
           threads == 1 ? "" : "s", rate, 1e6 * threads / rate);
    if (threads == cores) break;
  }
  return 0;
}
