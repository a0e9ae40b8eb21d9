/* libudev.h: the C API of vdev's libudev-compat, a drop-in libudev.so.1.
 *
 * Written for vdev; every prototype matches the one systemd's libudev declares, so a program
 * compiles against this header or the stock one alike and runs against either library.
 * Objects are reference counted; strings and list entries a function returns belong to the
 * object they came from and stay valid until that object is released (a list until the same
 * list is asked for again). Functions that fail return NULL (with errno set) or a negative
 * errno value. The library is not thread-safe: use one context per thread.
 */
#ifndef _LIBUDEV_H_
#define _LIBUDEV_H_

#include <stdarg.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

/* The library's own translation units see every function as noexcept (C++ definitions must
 * repeat a declaration's exception specification); programs see plain C prototypes. */
#if defined(__cplusplus) && defined(VDEV_LIBUDEV_IMPLEMENTATION)
#define VDEV_LIBUDEV_NOEXCEPT noexcept
#else
#define VDEV_LIBUDEV_NOEXCEPT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The library context: where sysfs, the device nodes and the device database are. vdev
 * reads them from VDEV_SYSFS_ROOT, VDEV_DEV_ROOT and VDEV_RUN_DIR (default /sys, /dev, /run). */
struct udev;
struct udev* udev_ref(struct udev* udev) VDEV_LIBUDEV_NOEXCEPT;
struct udev* udev_unref(struct udev* udev) VDEV_LIBUDEV_NOEXCEPT;
struct udev* udev_new(void) VDEV_LIBUDEV_NOEXCEPT;
void udev_set_log_fn(struct udev* udev,
                     void (*log_fn)(struct udev* udev, int priority, const char* file, int line,
                                    const char* fn, const char* format,
                                    va_list args)) VDEV_LIBUDEV_NOEXCEPT
    __attribute__((__deprecated__));
int udev_get_log_priority(struct udev* udev) VDEV_LIBUDEV_NOEXCEPT __attribute__((__deprecated__));
void udev_set_log_priority(struct udev* udev, int priority) VDEV_LIBUDEV_NOEXCEPT
    __attribute__((__deprecated__));
void* udev_get_userdata(struct udev* udev) VDEV_LIBUDEV_NOEXCEPT;
void udev_set_userdata(struct udev* udev, void* userdata) VDEV_LIBUDEV_NOEXCEPT;

/* Lists of name/value pairs returned by the other objects. */
struct udev_list_entry;
struct udev_list_entry* udev_list_entry_get_next(struct udev_list_entry* list_entry)
    VDEV_LIBUDEV_NOEXCEPT;
struct udev_list_entry* udev_list_entry_get_by_name(struct udev_list_entry* list_entry,
                                                    const char* name) VDEV_LIBUDEV_NOEXCEPT;
const char* udev_list_entry_get_name(struct udev_list_entry* list_entry) VDEV_LIBUDEV_NOEXCEPT;
const char* udev_list_entry_get_value(struct udev_list_entry* list_entry) VDEV_LIBUDEV_NOEXCEPT;

/* Iterates from first_entry to the end of its list. */
#define udev_list_entry_foreach(list_entry, first_entry) \
  for (list_entry = first_entry; list_entry; list_entry = udev_list_entry_get_next(list_entry))

/* One device: its sysfs directory merged with what the device manager recorded. */
struct udev_device;
struct udev_device* udev_device_ref(struct udev_device* udev_device) VDEV_LIBUDEV_NOEXCEPT;
struct udev_device* udev_device_unref(struct udev_device* udev_device) VDEV_LIBUDEV_NOEXCEPT;
struct udev* udev_device_get_udev(struct udev_device* udev_device) VDEV_LIBUDEV_NOEXCEPT;
struct udev_device* udev_device_new_from_syspath(struct udev* udev,
                                                 const char* syspath) VDEV_LIBUDEV_NOEXCEPT;
struct udev_device* udev_device_new_from_devnum(struct udev* udev, char type,
                                                dev_t devnum) VDEV_LIBUDEV_NOEXCEPT;
struct udev_device* udev_device_new_from_subsystem_sysname(
    struct udev* udev, const char* subsystem, const char* sysname) VDEV_LIBUDEV_NOEXCEPT;
struct udev_device* udev_device_new_from_device_id(struct udev* udev,
                                                   const char* id) VDEV_LIBUDEV_NOEXCEPT;
struct udev_device* udev_device_new_from_environment(struct udev* udev) VDEV_LIBUDEV_NOEXCEPT;
/* A parent belongs to its child: it takes no reference and goes away with the child. */
struct udev_device* udev_device_get_parent(struct udev_device* udev_device) VDEV_LIBUDEV_NOEXCEPT;
struct udev_device* udev_device_get_parent_with_subsystem_devtype(
    struct udev_device* udev_device, const char* subsystem,
    const char* devtype) VDEV_LIBUDEV_NOEXCEPT;
const char* udev_device_get_devpath(struct udev_device* udev_device) VDEV_LIBUDEV_NOEXCEPT;
const char* udev_device_get_subsystem(struct udev_device* udev_device) VDEV_LIBUDEV_NOEXCEPT;
const char* udev_device_get_devtype(struct udev_device* udev_device) VDEV_LIBUDEV_NOEXCEPT;
const char* udev_device_get_syspath(struct udev_device* udev_device) VDEV_LIBUDEV_NOEXCEPT;
const char* udev_device_get_sysname(struct udev_device* udev_device) VDEV_LIBUDEV_NOEXCEPT;
const char* udev_device_get_sysnum(struct udev_device* udev_device) VDEV_LIBUDEV_NOEXCEPT;
const char* udev_device_get_devnode(struct udev_device* udev_device) VDEV_LIBUDEV_NOEXCEPT;
int udev_device_get_is_initialized(struct udev_device* udev_device) VDEV_LIBUDEV_NOEXCEPT;
struct udev_list_entry* udev_device_get_devlinks_list_entry(struct udev_device* udev_device)
    VDEV_LIBUDEV_NOEXCEPT;
struct udev_list_entry* udev_device_get_properties_list_entry(struct udev_device* udev_device)
    VDEV_LIBUDEV_NOEXCEPT;
struct udev_list_entry* udev_device_get_tags_list_entry(struct udev_device* udev_device)
    VDEV_LIBUDEV_NOEXCEPT;
struct udev_list_entry* udev_device_get_current_tags_list_entry(struct udev_device* udev_device)
    VDEV_LIBUDEV_NOEXCEPT;
struct udev_list_entry* udev_device_get_sysattr_list_entry(struct udev_device* udev_device)
    VDEV_LIBUDEV_NOEXCEPT;
const char* udev_device_get_property_value(struct udev_device* udev_device,
                                           const char* key) VDEV_LIBUDEV_NOEXCEPT;
const char* udev_device_get_driver(struct udev_device* udev_device) VDEV_LIBUDEV_NOEXCEPT;
dev_t udev_device_get_devnum(struct udev_device* udev_device) VDEV_LIBUDEV_NOEXCEPT;
const char* udev_device_get_action(struct udev_device* udev_device) VDEV_LIBUDEV_NOEXCEPT;
unsigned long long int udev_device_get_seqnum(struct udev_device* udev_device)
    VDEV_LIBUDEV_NOEXCEPT;
unsigned long long int udev_device_get_usec_since_initialized(struct udev_device* udev_device)
    VDEV_LIBUDEV_NOEXCEPT;
const char* udev_device_get_sysattr_value(struct udev_device* udev_device,
                                          const char* sysattr) VDEV_LIBUDEV_NOEXCEPT;
int udev_device_set_sysattr_value(struct udev_device* udev_device, const char* sysattr,
                                  const char* value) VDEV_LIBUDEV_NOEXCEPT;
int udev_device_has_tag(struct udev_device* udev_device, const char* tag) VDEV_LIBUDEV_NOEXCEPT;
int udev_device_has_current_tag(struct udev_device* udev_device,
                                const char* tag) VDEV_LIBUDEV_NOEXCEPT;

/* Events as the device manager processed them. */
struct udev_monitor;
struct udev_monitor* udev_monitor_ref(struct udev_monitor* udev_monitor) VDEV_LIBUDEV_NOEXCEPT;
struct udev_monitor* udev_monitor_unref(struct udev_monitor* udev_monitor) VDEV_LIBUDEV_NOEXCEPT;
struct udev* udev_monitor_get_udev(struct udev_monitor* udev_monitor) VDEV_LIBUDEV_NOEXCEPT;
struct udev_monitor* udev_monitor_new_from_netlink(struct udev* udev,
                                                   const char* name) VDEV_LIBUDEV_NOEXCEPT;
int udev_monitor_enable_receiving(struct udev_monitor* udev_monitor) VDEV_LIBUDEV_NOEXCEPT;
int udev_monitor_set_receive_buffer_size(struct udev_monitor* udev_monitor,
                                         int size) VDEV_LIBUDEV_NOEXCEPT;
int udev_monitor_get_fd(struct udev_monitor* udev_monitor) VDEV_LIBUDEV_NOEXCEPT;
struct udev_device* udev_monitor_receive_device(struct udev_monitor* udev_monitor)
    VDEV_LIBUDEV_NOEXCEPT;
int udev_monitor_filter_add_match_subsystem_devtype(struct udev_monitor* udev_monitor,
                                                    const char* subsystem,
                                                    const char* devtype) VDEV_LIBUDEV_NOEXCEPT;
int udev_monitor_filter_add_match_tag(struct udev_monitor* udev_monitor,
                                      const char* tag) VDEV_LIBUDEV_NOEXCEPT;
int udev_monitor_filter_update(struct udev_monitor* udev_monitor) VDEV_LIBUDEV_NOEXCEPT;
int udev_monitor_filter_remove(struct udev_monitor* udev_monitor) VDEV_LIBUDEV_NOEXCEPT;

/* Device lookup: a list of syspaths matching filters, in the order systemd's libudev gives. */
struct udev_enumerate;
struct udev_enumerate* udev_enumerate_ref(struct udev_enumerate* udev_enumerate)
    VDEV_LIBUDEV_NOEXCEPT;
struct udev_enumerate* udev_enumerate_unref(struct udev_enumerate* udev_enumerate)
    VDEV_LIBUDEV_NOEXCEPT;
struct udev* udev_enumerate_get_udev(struct udev_enumerate* udev_enumerate) VDEV_LIBUDEV_NOEXCEPT;
struct udev_enumerate* udev_enumerate_new(struct udev* udev) VDEV_LIBUDEV_NOEXCEPT;
int udev_enumerate_add_match_subsystem(struct udev_enumerate* udev_enumerate,
                                       const char* subsystem) VDEV_LIBUDEV_NOEXCEPT;
int udev_enumerate_add_nomatch_subsystem(struct udev_enumerate* udev_enumerate,
                                         const char* subsystem) VDEV_LIBUDEV_NOEXCEPT;
int udev_enumerate_add_match_sysattr(struct udev_enumerate* udev_enumerate, const char* sysattr,
                                     const char* value) VDEV_LIBUDEV_NOEXCEPT;
int udev_enumerate_add_nomatch_sysattr(struct udev_enumerate* udev_enumerate, const char* sysattr,
                                       const char* value) VDEV_LIBUDEV_NOEXCEPT;
int udev_enumerate_add_match_property(struct udev_enumerate* udev_enumerate, const char* property,
                                      const char* value) VDEV_LIBUDEV_NOEXCEPT;
int udev_enumerate_add_match_sysname(struct udev_enumerate* udev_enumerate,
                                     const char* sysname) VDEV_LIBUDEV_NOEXCEPT;
int udev_enumerate_add_match_tag(struct udev_enumerate* udev_enumerate,
                                 const char* tag) VDEV_LIBUDEV_NOEXCEPT;
int udev_enumerate_add_match_parent(struct udev_enumerate* udev_enumerate,
                                    struct udev_device* parent) VDEV_LIBUDEV_NOEXCEPT;
int udev_enumerate_add_match_is_initialized(struct udev_enumerate* udev_enumerate)
    VDEV_LIBUDEV_NOEXCEPT;
int udev_enumerate_add_syspath(struct udev_enumerate* udev_enumerate,
                               const char* syspath) VDEV_LIBUDEV_NOEXCEPT;
int udev_enumerate_scan_devices(struct udev_enumerate* udev_enumerate) VDEV_LIBUDEV_NOEXCEPT;
int udev_enumerate_scan_subsystems(struct udev_enumerate* udev_enumerate) VDEV_LIBUDEV_NOEXCEPT;
struct udev_list_entry* udev_enumerate_get_list_entry(struct udev_enumerate* udev_enumerate)
    VDEV_LIBUDEV_NOEXCEPT;

/* The device manager's event queue. */
struct udev_queue;
struct udev_queue* udev_queue_ref(struct udev_queue* udev_queue) VDEV_LIBUDEV_NOEXCEPT;
struct udev_queue* udev_queue_unref(struct udev_queue* udev_queue) VDEV_LIBUDEV_NOEXCEPT;
struct udev* udev_queue_get_udev(struct udev_queue* udev_queue) VDEV_LIBUDEV_NOEXCEPT;
struct udev_queue* udev_queue_new(struct udev* udev) VDEV_LIBUDEV_NOEXCEPT;
unsigned long long int udev_queue_get_kernel_seqnum(struct udev_queue* udev_queue)
    VDEV_LIBUDEV_NOEXCEPT __attribute__((__deprecated__));
unsigned long long int udev_queue_get_udev_seqnum(struct udev_queue* udev_queue)
    VDEV_LIBUDEV_NOEXCEPT __attribute__((__deprecated__));
int udev_queue_get_udev_is_active(struct udev_queue* udev_queue) VDEV_LIBUDEV_NOEXCEPT;
int udev_queue_get_queue_is_empty(struct udev_queue* udev_queue) VDEV_LIBUDEV_NOEXCEPT;
int udev_queue_get_seqnum_is_finished(struct udev_queue* udev_queue,
                                      unsigned long long int seqnum) VDEV_LIBUDEV_NOEXCEPT
    __attribute__((__deprecated__));
int udev_queue_get_seqnum_sequence_is_finished(struct udev_queue* udev_queue,
                                               unsigned long long int start,
                                               unsigned long long int end) VDEV_LIBUDEV_NOEXCEPT
    __attribute__((__deprecated__));
int udev_queue_get_fd(struct udev_queue* udev_queue) VDEV_LIBUDEV_NOEXCEPT;
int udev_queue_flush(struct udev_queue* udev_queue) VDEV_LIBUDEV_NOEXCEPT;
struct udev_list_entry* udev_queue_get_queued_list_entry(struct udev_queue* udev_queue)
    VDEV_LIBUDEV_NOEXCEPT __attribute__((__deprecated__));

/* The hardware database: properties by modalias. */
struct udev_hwdb;
struct udev_hwdb* udev_hwdb_new(struct udev* udev) VDEV_LIBUDEV_NOEXCEPT;
struct udev_hwdb* udev_hwdb_ref(struct udev_hwdb* hwdb) VDEV_LIBUDEV_NOEXCEPT;
struct udev_hwdb* udev_hwdb_unref(struct udev_hwdb* hwdb) VDEV_LIBUDEV_NOEXCEPT;
struct udev_list_entry* udev_hwdb_get_properties_list_entry(struct udev_hwdb* hwdb,
                                                            const char* modalias,
                                                            unsigned flags) VDEV_LIBUDEV_NOEXCEPT;

/* Escapes str the way udev names device nodes: bytes outside [0-9A-Za-z#+-.:=@_] and
 * invalid UTF-8 become \xNN. Returns 0, or -EINVAL when str_enc (len bytes) is too small. */
int udev_util_encode_string(const char* str, char* str_enc, size_t len) VDEV_LIBUDEV_NOEXCEPT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* _LIBUDEV_H_ */
