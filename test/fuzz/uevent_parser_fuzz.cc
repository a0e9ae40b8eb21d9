// libFuzzer target for the parsers of untrusted text: kernel netlink datagrams, sysfs
// uevent files, replay text and udev database records. Every input goes through all four,
// and what parses must survive a format/parse round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "common/database.h"
#include "common/uevent.h"

namespace vdev {
namespace {

bool AnyValue(const Uevent& event, bool (*predicate)(std::string_view)) {
  for (const auto& [key, value] : event.properties())
    if (predicate(value)) return true;
  return false;
}

void Check(bool condition) {
  if (!condition) abort();
}

void FuzzKernelUevent(std::string_view data) {
  auto event = ParseKernelUevent(std::span<const char>(data.data(), data.size()));
  if (!event) return;
  Check(ValidateUevent(*event).has_value());
  (void)event->seqnum();
  (void)event->devnum();
  (void)event->ifindex();
  // A value with a newline cannot be written as a uevent file line.
  if (AnyValue(*event, [](std::string_view v) { return v.find('\n') != v.npos; })) return;
  auto again = ParseUeventFile(FormatProperties(*event));
  Check(again.has_value() && again->properties() == event->properties());
}

void FuzzUeventFile(std::string_view data) {
  auto event = ParseUeventFile(data);
  if (!event) return;
  (void)ValidateUevent(*event);
  auto again = ParseUeventFile(FormatProperties(*event));
  Check(again.has_value() && again->properties() == event->properties());
}

void FuzzReplayText(std::string_view data) {
  auto events = ParseReplayText(data);
  if (!events) return;
  std::string text;
  for (const auto& event : *events) {
    Check(ValidateUevent(event).has_value());
    // The reader strips one '\r' from a line's end ("\r\n" files), so a value that still
    // ends in '\r' does not survive a rewrite; that is the format, not a bug.
    if (AnyValue(event, [](std::string_view v) { return v.ends_with('\r'); })) return;
    text += FormatProperties(event);
    text += '\n';
  }
  auto again = ParseReplayText(text);
  Check(again.has_value() && again->size() == events->size());
  for (size_t i = 0; i < events->size(); ++i)
    Check((*again)[i].properties() == (*events)[i].properties());
}

void FuzzDatabaseRecord(std::string_view data) {
  auto record = ParseRecord(data);
  if (!record) return;
  auto again = ParseRecord(FormatRecord(*record));
  Check(again.has_value() && *again == *record);
}

}  // namespace
}  // namespace vdev

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  vdev::FuzzKernelUevent(input);
  vdev::FuzzUeventFile(input);
  vdev::FuzzReplayText(input);
  vdev::FuzzDatabaseRecord(input);
  return 0;
}
