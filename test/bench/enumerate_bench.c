/* enumerate_bench [ROUNDS]: what a libudev client does at start-up, timed. Each round makes a
 * context, enumerates every device, and for each reads all properties, the device node, the
 * links and the tags. Prints the best round's time in microseconds and the counts, so that
 * enumerate_bench.sh can run it against two libudev.so.1 builds on the same data. */
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 10;
  unsigned long long best = 0;
  unsigned long devices = 0, properties = 0, links = 0, tags = 0, nodes = 0, bytes = 0;
  for (int round = 0; round < rounds; round++) {
    devices = properties = links = tags = nodes = bytes = 0;
    unsigned long long start = now_us();
    struct udev* udev = udev_new();
    struct udev_enumerate* enumerate = udev_enumerate_new(udev);
    if (!udev || !enumerate || udev_enumerate_scan_devices(enumerate) < 0) {
      fprintf(stderr, "enumerate_bench: enumeration failed\n");
      return 1;
    }
    struct udev_list_entry *entry, *item;
    udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(enumerate)) {
      struct udev_device* device =
          udev_device_new_from_syspath(udev, udev_list_entry_get_name(entry));
      if (!device) continue;
      devices++;
      udev_list_entry_foreach(item, udev_device_get_properties_list_entry(device)) {
        const char* value = udev_list_entry_get_value(item);
        bytes += strlen(udev_list_entry_get_name(item)) + (value ? strlen(value) : 0);
        properties++;
      }
      if (udev_device_get_devnode(device)) nodes++;
      udev_list_entry_foreach(item, udev_device_get_devlinks_list_entry(device)) links++;
      udev_list_entry_foreach(item, udev_device_get_tags_list_entry(device)) tags++;
      udev_device_unref(device);
    }
    udev_enumerate_unref(enumerate);
    udev_unref(udev);
    unsigned long long elapsed = now_us() - start;
    if (round == 0 || elapsed < best) best = elapsed;
  }
  printf("%llu us devices=%lu properties=%lu nodes=%lu links=%lu tags=%lu bytes=%lu\n", best,
         devices, properties, nodes, links, tags, bytes);
  return 0;
}
