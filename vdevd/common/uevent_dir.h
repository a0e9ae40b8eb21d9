// The layout of DEV/uevents/, the client fan-out (DESIGN.md): the names and the sequence-number
// format that vdevd's ClientFanout and the UeventClient of libudev.so.1 agree on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vdev {

// Below the dev root: one directory per client, mode 1777, owned by root.
inline constexpr const char kUeventsDir[] = "uevents";
// Below kUeventsDir: where the daemon writes each event once before linking it (0700 root).
inline constexpr const char kUeventsSpoolDir[] = ".spool";
// In a client directory: the daemon stopped linking; holds the first sequence number that
// was not delivered. The client removes it once it has read the files before it.
inline constexpr const char kOverflowMarker[] = "overflow";
// An event file's name: its sequence number, zero-padded so that names sort in event order.
inline constexpr size_t kSequenceDigits = 20;

// "00000001712345678901234".
std::string FormatSequence(uint64_t sequence);
// The sequence number of an event file's name; nullopt for any other name.
std::optional<uint64_t> ParseSequenceName(std::string_view name);
// A registered client's directory name: not empty, no '/', not starting with '.' (names
// starting with '.' are clients still setting up, and the spool).
bool IsClientDirName(std::string_view name);

}  // namespace vdev
