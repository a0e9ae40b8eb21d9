// The udev_list_entry accessors and EntryList.
#include <libudev.h>

#include <algorithm>
#include <cstring>

#include "abi.h"
#include "udev_list_internal.h"

namespace vdev::compat {

void EntryList::Clear() {
  items_.clear();
  entries_.clear();
  built_ = false;
}

void EntryList::Add(std::string_view name, std::optional<std::string_view> value) {
  items_.push_back(Item{std::string(name), std::string(value.value_or("")), value.has_value()});
  built_ = false;
}

udev_list_entry* EntryList::First() {
  if (!built_) {
    if (order_ == Order::kByName) {
      std::stable_sort(items_.begin(), items_.end(),
                       [](const Item& a, const Item& b) { return a.name < b.name; });
      // Keep the last of each run of equal names: a later Add replaces an earlier one.
      std::vector<Item> unique;
      unique.reserve(items_.size());
      for (auto& item : items_) {
        if (!unique.empty() && unique.back().name == item.name)
          unique.back() = std::move(item);
        else
          unique.push_back(std::move(item));
      }
      items_ = std::move(unique);
    }
    entries_.assign(items_.size(), udev_list_entry{});
    for (size_t i = 0; i < items_.size(); ++i) {
      udev_list_entry& entry = entries_[i];
      entry.next = i + 1 < items_.size() ? &entries_[i + 1] : nullptr;
      entry.name = items_[i].name.c_str();
      entry.value = items_[i].has_value ? items_[i].value.c_str() : nullptr;
      entry.list = this;
    }
    built_ = true;
  }
  return entries_.empty() ? nullptr : entries_.data();
}

udev_list_entry* EntryList::Find(const udev_list_entry* from, std::string_view name) {
  if (order_ == Order::kByName) {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                               [](const udev_list_entry& entry, std::string_view wanted) {
                                 return std::string_view(entry.name) < wanted;
                               });
    return it != entries_.end() && it->name == name ? &*it : nullptr;
  }
  for (const udev_list_entry* entry = from; entry; entry = entry->next)
    if (entry->name == name) return const_cast<udev_list_entry*>(entry);
  return nullptr;
}

}  // namespace vdev::compat

using vdev::compat::NullWithErrno;

UDEV_EXPORT udev_list_entry* udev_list_entry_get_next(udev_list_entry* list_entry) noexcept {
  // NULL is how iteration ends: no errno for it.
  return list_entry ? list_entry->next : nullptr;
}

UDEV_EXPORT udev_list_entry* udev_list_entry_get_by_name(udev_list_entry* list_entry,
                                                         const char* name) noexcept {
  if (!list_entry || !name) return NullWithErrno(EINVAL);
  // Find never allocates; the list is the one list_entry belongs to.
  auto* list = const_cast<vdev::compat::EntryList*>(list_entry->list);
  return list->Find(list_entry, name);
}

UDEV_EXPORT const char* udev_list_entry_get_name(udev_list_entry* list_entry) noexcept {
  if (!list_entry) return NullWithErrno(EINVAL);
  return list_entry->name;
}

UDEV_EXPORT const char* udev_list_entry_get_value(udev_list_entry* list_entry) noexcept {
  if (!list_entry) return NullWithErrno(EINVAL);
  return list_entry->value;
}
