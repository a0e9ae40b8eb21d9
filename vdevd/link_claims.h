// LinkClaims: the record of which devices claim which rule links (RUN/vdev/links/), and the
// one place that decides where a claimed link points.
//
// Layout: RUN/vdev/links/<escaped link>/<escaped device id>, one small KEY=VALUE file per
// claimant (link, device, node, priority, since). Every decision is made from what is on
// disk, never from memory, so a restarted daemon and concurrent workers agree.
//
// Who owns a link: the highest priority; among equal priorities the oldest claim (the
// smallest `since`); then the smallest device id. Oldest-wins rather than udev's newest-wins
// on purpose: a disk plugged in later with the same label or UUID (a clone, a backup) does
// not take over a by-uuid link that fstab and mounts already resolve, a change event of the
// other claimant does not make the link flap, and the answer depends only on the store,
// not on the order workers happened to run in. A rule that wants the newcomer to win gives
// it a higher link_priority. A claim keeps its `since` while the device keeps claiming the
// link (change events, a coldplug after a restart); dropping and claiming again is a new
// claim.
//
// Concurrency: the claims of one link are read, changed and the link repointed under one
// process-wide lock striped by the link's store name; events of one device never run
// concurrently (EventQueue), so a device's own claims have a single writer. One daemon owns
// a run dir.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "node_writer.h"

namespace vdev {

// One device's claim on one link.
struct LinkClaim {
  std::string device_id;    // database id of the claimant: b8:1, c13:64, ...
  std::string node_name;    // its node, relative to the dev root
  int priority = 0;         // higher wins
  uint64_t since_usec = 0;  // when the claim was first made (CLOCK_MONOTONIC, as the database)

  bool operator==(const LinkClaim&) const = default;
};

// The claim that owns the link (see the rule above), nullptr when there is none.
const LinkClaim* BestClaim(const std::vector<LinkClaim>& claims);

// A single, safe directory-entry name for a link or device id: bytes outside
// [A-Za-z0-9#+,-.:=@_] (and a leading '.') become \xHH, as udev escapes '/' to \x2f, so
// no name can be "." or "..", contain '/', or look like a temporary file. Names whose
// escaped form would pass NAME_MAX are cut and end in '%' and a hash ('%' is never
// produced otherwise); the claim files record the full link, so a collision stays harmless.
std::string EscapeStoreName(std::string_view name);

class LinkClaims {
 public:
  using Clock = std::function<uint64_t()>;

  // run_fd: the run dir (not owned). The store, RUN/vdev/links, is created on first use.
  // nodes: where links are pointed. clock gives `since` for new claims (tests inject one).
  LinkClaims(int run_fd, NodeWriter& nodes, Clock clock = {});

  // Records (or updates the priority and node of) device_id's claim on link, then points
  // the link at its owner.
  [[nodiscard]] Status Claim(const std::string& link, const std::string& device_id,
                             const std::string& node_name, int priority);

  // Drops device_id's claim on link, then points the link at the next owner, or removes it
  // (and the link's store directory) when no claimant is left. The link is removed only
  // while it still points at the dropped claimant's node: node_name, or the node its
  // claim recorded. With no claims recorded for link at all (a link made before the store
  // existed) this is NodeWriter::RemoveLink(link, node_name).
  [[nodiscard]] Status Unclaim(const std::string& link, const std::string& device_id,
                               const std::string& node_name);

  // The recorded claims on link, in store order; empty when there are none.
  [[nodiscard]] Result<std::vector<LinkClaim>> Claimants(const std::string& link) const;

 private:
  int run_fd_;
  NodeWriter& nodes_;
  Clock clock_;
};

}  // namespace vdev
