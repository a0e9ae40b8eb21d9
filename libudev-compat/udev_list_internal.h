// EntryList: the storage behind a chain of udev_list_entry, owned by the object (device,
// enumerate, queue, hwdb) that hands the chain out. For udev_monitor/udev_queue/udev_hwdb too.
//
// Contract: entries returned by First() stay valid until the next Clear() or Add() on the same
// list, or the list's destruction; libudev documents the same lifetime ("until the list is
// asked for again or its owner is released"). A list is not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vdev::compat {
class EntryList;
}  // namespace vdev::compat

// One entry of a list as the C API sees it. Entries of one list sit in one array.
struct udev_list_entry {
  udev_list_entry* next = nullptr;
  const char* name = nullptr;
  const char* value = nullptr;  // nullptr when the entry has no value
  const vdev::compat::EntryList* list = nullptr;
};

namespace vdev::compat {

class EntryList {
 public:
  enum class Order {
    kInsertion,  // as added, duplicates kept (udev_enumerate's device list)
    kByName,     // sorted by name (strcmp), one entry per name, the last value added wins
                 // (properties, links, tags, sysattrs, hwdb properties)
  };

  explicit EntryList(Order order) : order_(order) {}
  EntryList(const EntryList&) = delete;
  EntryList& operator=(const EntryList&) = delete;

  void Clear();
  void Add(std::string_view name, std::optional<std::string_view> value = std::nullopt);
  bool empty() const { return items_.empty(); }

  // The first entry (nullptr for an empty list); the chain is built here, once per change.
  udev_list_entry* First();

  // udev_list_entry_get_by_name: in a kByName list the whole list is searched (libudev looks
  // the name up in the list's index); in a kInsertion list from `from` onwards.
  udev_list_entry* Find(const udev_list_entry* from, std::string_view name);

 private:
  struct Item {
    std::string name;
    std::string value;
    bool has_value;
  };

  Order order_;
  std::vector<Item> items_;
  std::vector<udev_list_entry> entries_;
  bool built_ = false;
};

}  // namespace vdev::compat
