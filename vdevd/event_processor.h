// EventProcessor: runs one event through the worker's steps: the device and its old record,
// the rules, the node and its links, the database record, the programs to run after.
// The links the rules give a device are claims (LinkClaims, under RUN/vdev/links): a link
// two devices want points at the higher-priority one and falls back when it goes. The
// devnum links block/M:m and char/M:m have one owner by construction and are no claims.
// Called concurrently from the worker threads for events the EventQueue let start.
#pragma once

#include <string>

#include "common/database.h"
#include "common/roots.h"
#include "common/uevent.h"
#include "event_queue.h"
#include "link_claims.h"
#include "node_writer.h"
#include "program_runner.h"
#include "rule_store.h"

namespace vdev {

struct ProcessorOptions {
  bool devtmpfs = false;     // the kernel makes nodes; we only set owner and mode
  std::string dev_root_path = "/dev";  // prefix of DEVNAME and DEVLINKS in published events
  bool write_attributes = true;  // false (--dry-run): rules' sysfs writes are only logged
};

class EventProcessor {
 public:
  EventProcessor(const Roots& roots, Database& database, NodeWriter& nodes,
                 const RuleStore& rules, ProgramRunner& runner, ProcessorOptions options)
      : roots_(roots),
        database_(database),
        nodes_(nodes),
        rules_(rules),
        runner_(runner),
        options_(std::move(options)),
        claims_(roots.run(), nodes) {}

  // Returns the event as published: the kernel's properties plus DEVNAME under the dev
  // root, DEVLINKS, TAGS, CURRENT_TAGS, USEC_INITIALIZED and what the rules set. When a
  // builtin found the device busy (and this is not the last attempt), nothing is applied
  // and the outcome asks for a retry with the event unchanged.
  ProcessOutcome Process(Uevent event, bool last_attempt = true);

 private:
  const Roots& roots_;
  Database& database_;
  NodeWriter& nodes_;
  const RuleStore& rules_;
  ProgramRunner& runner_;
  ProcessorOptions options_;
  LinkClaims claims_;
};

}  // namespace vdev
