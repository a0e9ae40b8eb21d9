/* libudev_abi_check: a C program built against the STOCK /usr/include/libudev.h (systemd's)
 * and linked with vdev's build/lib/libudev.so.1. It builds a small fake sysfs, dev root and
 * udev database in a temporary directory, points the library at them (VDEV_SYSFS_ROOT,
 * VDEV_DEV_ROOT, VDEV_RUN_DIR), exercises the API and exits non-zero on any mismatch. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <ftw.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef VDEV_LIBUDEV_NOEXCEPT
#error "built against vdev's libudev.h; this check needs the stock header"
#endif

static int passed, failed;
static char root[64];

#define CHECK(condition)                                                            \
  do {                                                                              \
    if (condition) {                                                                \
      passed++;                                                                     \
    } else {                                                                        \
      failed++;                                                                     \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
    }                                                                               \
  } while (0)

static int streq_or_null(const char* a, const char* b) {
  return a && b ? strcmp(a, b) == 0 : a == b;
}
#define CHECK_STR(actual, expected)                                                          \
  do {                                                                                       \
    const char *a_ = (actual), *e_ = (expected);                                             \
    if (streq_or_null(a_, e_)) {                                                             \
      passed++;                                                                              \
    } else {                                                                                 \
      failed++;                                                                              \
      fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #actual, \
              a_ ? a_ : "(null)", e_ ? e_ : "(null)");                                       \
    }                                                                                        \
  } while (0)

static const char* path(const char* relative) {
  static char buffers[8][512];
  static int next;
  char* buffer = buffers[next++ % 8];
  snprintf(buffer, sizeof(buffers[0]), "%s/%s", root, relative);
  return buffer;
}

static void make_dirs(const char* relative) {
  char buffer[512];
  snprintf(buffer, sizeof(buffer), "%s/%s", root, relative);
  for (char* p = buffer + strlen(root) + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    mkdir(buffer, 0755);
    *p = '/';
  }
  mkdir(buffer, 0755);
}

static void write_file(const char* relative, const char* content) {
  char dir[512];
  snprintf(dir, sizeof(dir), "%s", relative);
  char* slash = strrchr(dir, '/');
  if (slash) {
    *slash = '\0';
    make_dirs(dir);
  }
  FILE* file = fopen(path(relative), "w");
  if (!file || fputs(content, file) < 0 || fclose(file) != 0) {
    perror(relative);
    exit(2);
  }
}

static void link_to(const char* relative, const char* target) {
  char dir[512];
  snprintf(dir, sizeof(dir), "%s", relative);
  *strrchr(dir, '/') = '\0';
  make_dirs(dir);
  if (symlink(target, path(relative)) < 0) {
    perror(relative);
    exit(2);
  }
}

static void build_tree(void) {
  write_file("sys/devices/virtual/mem/null/uevent",
             "MAJOR=1\nMINOR=3\nDEVNAME=null\nDEVMODE=0666\n");
  write_file("sys/devices/virtual/mem/null/dev", "1:3\n");
  link_to("sys/devices/virtual/mem/null/subsystem", "../../../../class/mem");
  link_to("sys/class/mem/null", "../../devices/virtual/mem/null");
  link_to("sys/dev/char/1:3", "../../devices/virtual/mem/null");
  write_file("sys/devices/virtual/block/loop0/uevent",
             "MAJOR=7\nMINOR=0\nDEVNAME=loop0\nDEVTYPE=disk\n");
  write_file("sys/devices/virtual/block/loop0/size", "2048\n");
  write_file("sys/devices/virtual/block/loop0/dev", "7:0\n");
  link_to("sys/devices/virtual/block/loop0/subsystem", "../../../../class/block");
  link_to("sys/class/block/loop0", "../../devices/virtual/block/loop0");
  link_to("sys/dev/block/7:0", "../../devices/virtual/block/loop0");
  make_dirs("sys/bus");
  make_dirs("dev");
  write_file("run/udev/data/c1:3",
             "S:mylink\nS:other/link\nI:100\nE:ID_X=y\nG:uaccess\nQ:uaccess\nV:1\n");
  write_file("run/udev/tags/uaccess/c1:3", "");
}

static int remove_entry(const char* file, const struct stat* st, int flag, struct FTW* ftw) {
  return remove(file);
}

static void check_device(struct udev* udev) {
  struct udev_device* device = udev_device_new_from_syspath(udev, path("sys/class/mem/null"));
  CHECK(device != NULL);
  if (!device) return;
  CHECK_STR(udev_device_get_syspath(device), path("sys/devices/virtual/mem/null"));
  CHECK_STR(udev_device_get_devpath(device), "/devices/virtual/mem/null");
  CHECK_STR(udev_device_get_subsystem(device), "mem");
  CHECK_STR(udev_device_get_sysname(device), "null");
  CHECK_STR(udev_device_get_sysnum(device), NULL);
  CHECK_STR(udev_device_get_devnode(device), path("dev/null"));
  CHECK_STR(udev_device_get_devtype(device), NULL);
  CHECK(udev_device_get_devnum(device) == makedev(1, 3));
  CHECK(udev_device_get_is_initialized(device) == 1);
  CHECK(udev_device_get_usec_since_initialized(device) > 0);
  CHECK(udev_device_get_udev(device) == udev);
  CHECK_STR(udev_device_get_property_value(device, "ID_X"), "y");
  CHECK_STR(udev_device_get_property_value(device, "DEVMODE"), "0666");
  CHECK_STR(udev_device_get_property_value(device, "USEC_INITIALIZED"), "100");
  CHECK_STR(udev_device_get_property_value(device, "TAGS"), ":uaccess:");
  CHECK(udev_device_has_tag(device, "uaccess") == 1);
  CHECK(udev_device_has_current_tag(device, "uaccess") == 1);
  CHECK(udev_device_has_tag(device, "seat") == 0);
  CHECK_STR(udev_device_get_sysattr_value(device, "dev"), "1:3");

  /* Properties come sorted by name. */
  const char* expected[] = {"CURRENT_TAGS", "DEVLINKS", "DEVMODE",         "DEVNAME",
                            "DEVPATH",      "ID_X",     "MAJOR",           "MINOR",
                            "SUBSYSTEM",    "TAGS",     "USEC_INITIALIZED"};
  size_t count = 0;
  struct udev_list_entry* entry;
  udev_list_entry_foreach(entry, udev_device_get_properties_list_entry(device)) {
    if (count < sizeof(expected) / sizeof(expected[0]))
      CHECK_STR(udev_list_entry_get_name(entry), expected[count]);
    count++;
  }
  CHECK(count == sizeof(expected) / sizeof(expected[0]));
  struct udev_list_entry* links = udev_device_get_devlinks_list_entry(device);
  CHECK_STR(udev_list_entry_get_name(links), path("dev/mylink"));
  CHECK_STR(udev_list_entry_get_name(udev_list_entry_get_next(links)), path("dev/other/link"));
  CHECK(udev_list_entry_get_by_name(links, path("dev/other/link")) != NULL);
  CHECK_STR(udev_list_entry_get_name(udev_device_get_tags_list_entry(device)), "uaccess");
  CHECK_STR(udev_list_entry_get_name(udev_device_get_current_tags_list_entry(device)), "uaccess");
  CHECK(udev_list_entry_get_by_name(udev_device_get_sysattr_list_entry(device), "dev") != NULL);

  errno = 0;
  CHECK(udev_device_get_property_value(device, "NOPE") == NULL && errno == ENOENT);
  errno = 0;
  CHECK(udev_device_get_parent(device) == NULL && errno == ENOENT);
  CHECK(udev_device_ref(device) == device);
  udev_device_unref(device);
  udev_device_unref(device);

  struct udev_device* loop = udev_device_new_from_devnum(udev, 'b', makedev(7, 0));
  CHECK(loop != NULL);
  if (loop) {
    CHECK_STR(udev_device_get_devtype(loop), "disk");
    CHECK_STR(udev_device_get_sysnum(loop), "0");
    CHECK_STR(udev_device_get_sysattr_value(loop, "size"), "2048");
    CHECK(udev_device_get_is_initialized(loop) == 0);
    udev_device_unref(loop);
  }
  struct udev_device* by_name = udev_device_new_from_subsystem_sysname(udev, "mem", "null");
  CHECK(by_name != NULL);
  udev_device_unref(by_name);
  struct udev_device* by_id = udev_device_new_from_device_id(udev, "c1:3");
  CHECK(by_id != NULL);
  udev_device_unref(by_id);

  errno = 0;
  CHECK(udev_device_new_from_syspath(udev, NULL) == NULL && errno == EINVAL);
  errno = 0;
  CHECK(udev_device_new_from_syspath(udev, path("sys/devices/none")) == NULL && errno == ENODEV);
  errno = 0;
  CHECK(udev_device_get_syspath(NULL) == NULL && errno == EINVAL);
}

static void check_enumerate(struct udev* udev) {
  struct udev_enumerate* enumerate = udev_enumerate_new(udev);
  CHECK(enumerate != NULL);
  if (!enumerate) return;
  CHECK(udev_enumerate_scan_devices(enumerate) == 0);
  struct udev_list_entry* first = udev_enumerate_get_list_entry(enumerate);
  CHECK_STR(udev_list_entry_get_name(first), path("sys/devices/virtual/block/loop0"));
  CHECK_STR(udev_list_entry_get_name(udev_list_entry_get_next(first)),
            path("sys/devices/virtual/mem/null"));
  CHECK(udev_list_entry_get_next(udev_list_entry_get_next(first)) == NULL);
  udev_enumerate_unref(enumerate);

  enumerate = udev_enumerate_new(udev);
  CHECK(udev_enumerate_add_match_tag(enumerate, "uaccess") == 0);
  CHECK(udev_enumerate_scan_devices(enumerate) == 0);
  first = udev_enumerate_get_list_entry(enumerate);
  CHECK_STR(udev_list_entry_get_name(first), path("sys/devices/virtual/mem/null"));
  CHECK(udev_list_entry_get_next(first) == NULL);
  udev_enumerate_unref(enumerate);

  enumerate = udev_enumerate_new(udev);
  CHECK(udev_enumerate_add_match_subsystem(enumerate, "block") == 0);
  CHECK(udev_enumerate_add_match_sysattr(enumerate, "size", "2*") == 0);
  CHECK(udev_enumerate_add_nomatch_subsystem(enumerate, "mem") == 0);
  CHECK(udev_enumerate_add_match_property(enumerate, "DEVTYPE", "disk") == 0);
  CHECK(udev_enumerate_add_match_sysname(enumerate, "loop*") == 0);
  CHECK(udev_enumerate_scan_devices(enumerate) == 0);
  first = udev_enumerate_get_list_entry(enumerate);
  CHECK_STR(udev_list_entry_get_name(first), path("sys/devices/virtual/block/loop0"));
  CHECK(udev_list_entry_get_next(first) == NULL);
  CHECK(udev_enumerate_get_udev(enumerate) == udev);
  udev_enumerate_unref(enumerate);

  enumerate = udev_enumerate_new(udev);
  CHECK(udev_enumerate_add_match_is_initialized(enumerate) == 0);
  CHECK(udev_enumerate_scan_devices(enumerate) == 0);
  first = udev_enumerate_get_list_entry(enumerate);
  CHECK_STR(udev_list_entry_get_name(first), path("sys/devices/virtual/mem/null"));
  CHECK(udev_list_entry_get_next(first) == NULL);
  udev_enumerate_unref(enumerate);

  CHECK(udev_enumerate_scan_devices(NULL) == -EINVAL);
}

static void check_util(struct udev* udev) {
  char out[64];
  CHECK(udev_util_encode_string("a b/c", out, sizeof(out)) == 0);
  CHECK_STR(out, "a\\x20b\\x2fc");
  CHECK(udev_util_encode_string("abcdef", out, 4) == -EINVAL);
  int marker;
  udev_set_userdata(udev, &marker);
  CHECK(udev_get_userdata(udev) == &marker);
}

int main(void) {
  Dl_info info;
  if (dladdr((void*)udev_new, &info) && info.dli_fname) printf("libudev: %s\n", info.dli_fname);
  snprintf(root, sizeof(root), "%s", "/tmp/vdev-abi.XXXXXX");
  if (!mkdtemp(root)) {
    perror("mkdtemp");
    return 2;
  }
  build_tree();
  setenv("VDEV_SYSFS_ROOT", path("sys"), 1);
  setenv("VDEV_DEV_ROOT", path("dev"), 1);
  setenv("VDEV_RUN_DIR", path("run"), 1);
  struct udev* udev = udev_new();
  CHECK(udev != NULL);
  if (udev) {
    check_device(udev);
    check_enumerate(udev);
    check_util(udev);
    CHECK(udev_unref(udev) == NULL);
  }
  nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
