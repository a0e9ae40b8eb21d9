// Node policy: the node, devnum link and tag string a processed event gets, decided once
// for EventProcessor (which applies them) and `vdevadm test` (which prints them).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/uevent.h"
#include "event_state.h"
#include "node_writer.h"

namespace vdev {

// The node's name below the dev root from DEVNAME ("sda", "/dev/sda" -> "sda").
std::string NodeName(const Uevent& event);

// udev's /dev/block/MAJ:MIN and /dev/char/MAJ:MIN links.
std::string DevnumLink(bool block, dev_t devnum);

// Owner, group and mode: what the rules set, else DEVUID/DEVGID/DEVMODE of the event, else
// root and 0600 (0660 when the rules gave an owner or group).
NodeSpec NodeSpecFor(const EventState& state, const Uevent& event, std::string name, bool block,
                     dev_t devnum);

// TAGS/CURRENT_TAGS spelling: ":a:b:", "" for no tags.
std::string JoinTags(const std::vector<std::string>& tags);

}  // namespace vdev
