// ClientFanout: hands every processed event to the libudev clients registered below
// DEV/uevents (DESIGN.md, "The client fan-out"): the event is written once into a private
// spool, hard-linked into each live client's directory under its sequence number, and
// unlinked from the spool. It finds clients through inotify, collects dead ones (whose flock
// it can take) and bounds what a client that stops reading can cost. Loop thread only; no
// call blocks on anything a client controls.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client_dir.h"
#include "common/result.h"
#include "common/uevent.h"
#include "common/unique_fd.h"

namespace vdev {

struct ClientFanoutOptions {
  // Event files linked into one client and not yet consumed; at the bound the client gets
  // an overflow marker instead of more files.
  size_t backlog = 4096;
  // Client directories served per owner; more are ignored (left alone) until one goes.
  size_t clients_per_uid = 64;
  // The first sequence number; 0: CLOCK_REALTIME in microseconds, so that numbers keep
  // rising across restarts of the daemon.
  uint64_t first_sequence = 0;
};

class ClientFanout {
 public:
  // Creates DEV/uevents (1777) and its spool (0700) below dev_fd or checks the existing
  // ones: real directories owned by us, on one file system. Picks up the clients already
  // registered (those of a previous daemon, or that started first).
  [[nodiscard]] static Result<std::unique_ptr<ClientFanout>> Open(int dev_fd,
                                                                  ClientFanoutOptions options);
  ~ClientFanout();
  ClientFanout(const ClientFanout&) = delete;
  ClientFanout& operator=(const ClientFanout&) = delete;

  // Readable when clients come or go: call HandleNotifications() then.
  int fd() const { return inotify_.get(); }
  void HandleNotifications();

  // Delivers one processed event to every live client; events get rising sequence numbers
  // in the order of the calls. A client that registered before the call gets the event.
  void Publish(const Uevent& event);

  // The periodic check: collects clients that died, drops directories renamed away,
  // finishes removals left over (and without inotify, looks for new clients). Call it
  // every few seconds while NeedsChecks().
  void CheckClients();
  bool NeedsChecks() const { return !watching_ || !clients_.empty() || !dying_.empty(); }

  size_t client_count() const { return clients_.size(); }
  // The sequence number the next published event gets.
  uint64_t next_sequence() const { return next_sequence_; }

 private:
  struct Client {
    explicit Client(ClientDir dir_in) : dir(std::move(dir_in)) {}
    ClientDir dir;
    size_t backlog = 0;       // files linked and not known to be consumed
    bool overflowed = false;  // linking stopped; waiting for the client to drain
    bool marker_written = false;
    uint64_t first_lost = 0;  // what the marker says
    // A client that removed its marker without draining is recounted no sooner than this.
    std::chrono::steady_clock::time_point next_recount{};
  };
  struct Dying {
    ClientDir dir;
    unsigned attempts = 0;
  };

  ClientFanout(ClientFanoutOptions options, UniqueFd uevents, UniqueFd spool);
  void Watch();
  void Rescan();
  void Register(const std::string& name);
  void Drop(const std::string& name);
  void AdmitWaiting(uid_t uid);
  enum class Outcome { kKept, kRemoved, kDead };
  Outcome Deliver(Client& client, const std::string& file, uint64_t sequence, bool spooled);
  bool TryResume(Client& client, uint64_t sequence);
  void EnterOverflow(Client& client, uint64_t sequence, const char* why);
  void Bury(const std::string& name);
  void CollectDying();
  [[nodiscard]] Status WriteSpool(const std::string& file, const std::string& content);
  void CleanSpool();

  ClientFanoutOptions options_;
  UniqueFd uevents_;
  UniqueFd spool_;
  UniqueFd inotify_;
  bool watching_ = false;  // without inotify (no /proc), CheckClients() rescans instead
  uint64_t next_sequence_;
  std::map<std::string, Client> clients_;  // by directory name
  std::map<uid_t, size_t> per_uid_;
  // Names over their owner's cap, admitted when one of the owner's clients goes.
  std::map<uid_t, std::set<std::string>> waiting_;
  std::set<uid_t> warned_uids_;
  std::vector<Dying> dying_;  // dead clients whose removal is not finished
  bool spool_failing_ = false;
  bool spool_mode_right_ = false;  // the umask leaves files created 0644 as they are
};

}  // namespace vdev
