#include "control_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/control_protocol.h"
#include "common/log.h"
#include "event_loop.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

// --- The wire format ---------------------------------------------------------------------

TEST(ControlProtocol, RequestsRoundTrip) {
  for (const char* text : {"ping", "settle", "is-settled", "monitor", "exit", "reload",
                           "stop-exec-queue", "start-exec-queue"}) {
    auto request = ParseControlRequest(text);
    ASSERT_TRUE(request) << text;
    EXPECT_EQ(FormatControlRequest(*request), text);
  }
  auto level = ParseControlRequest("log-level=debug");
  ASSERT_TRUE(level);
  EXPECT_EQ(level->command, ControlCommand::kLogLevel);
  EXPECT_EQ(level->level, LogLevel::kDebug);
  EXPECT_EQ(FormatControlRequest(*level), "log-level=7");
  EXPECT_EQ(ParseControlRequest("log-level=7")->level, LogLevel::kDebug);
}

TEST(ControlProtocol, RejectsUnknownRequests) {
  for (const char* text :
       {"", "PING", "ping ", "settle\n", "log-level=", "log-level=loud", "log-level=9",
        "monitor please", "stop-exec-queue=1", "start_exec_queue"}) {
    EXPECT_FALSE(ParseControlRequest(text)) << "accepted '" << text << "'";
  }
}

TEST(ControlProtocol, OnlyRootMayChangeTheDaemon) {
  for (auto command : {ControlCommand::kExit, ControlCommand::kReload, ControlCommand::kLogLevel,
                       ControlCommand::kStopExecQueue, ControlCommand::kStartExecQueue}) {
    EXPECT_TRUE(IsPrivilegedCommand(command));
    EXPECT_TRUE(MayRunCommand(command, 0));
    EXPECT_FALSE(MayRunCommand(command, 1000));
    EXPECT_FALSE(MayRunCommand(command, 65534));
  }
  for (auto command : {ControlCommand::kPing, ControlCommand::kSettle, ControlCommand::kIsSettled,
                       ControlCommand::kMonitor}) {
    EXPECT_FALSE(IsPrivilegedCommand(command));
    EXPECT_TRUE(MayRunCommand(command, 0));
    EXPECT_TRUE(MayRunCommand(command, 1000));
  }
}

TEST(ControlProtocol, ReplyErrors) {
  EXPECT_EQ(ReplyError("ok"), std::nullopt);
  EXPECT_EQ(ReplyError("error: permission denied"), "permission denied");
  EXPECT_EQ(ReplyError(FormatErrorReply("x y")), "x y");
  ASSERT_TRUE(ReplyError("okay"));
  EXPECT_NE(ReplyError("okay")->find("unexpected reply"), std::string::npos);
}

TEST(ControlProtocol, SocketAddress) {
  auto address = ControlSocketAddress("/tmp/run");
  ASSERT_TRUE(address);
  EXPECT_STREQ(address->sun_path, "/tmp/run/vdev/control");
  EXPECT_STREQ(ControlSocketAddress("/tmp/run/")->sun_path, "/tmp/run/vdev/control");
  auto too_long = ControlSocketAddress("/" + std::string(sizeof(sockaddr_un::sun_path), 'a'));
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code, ENAMETOOLONG);
}

// --- The server, stepped from the test thread --------------------------------------------

class FakeHandler : public ControlHandler {
 public:
  bool IsSettled() override { return settled; }
  void RequestExit() override { ++exits; }
  Status Reload() override {
    ++reloads;
    return reload_result;
  }
  Status StopExecQueue(bool stop) override {
    if (!pausable) return ControlHandler::StopExecQueue(stop);
    pause_requests.push_back(stop);
    return Ok();
  }

  bool settled = true;
  int exits = 0;
  int reloads = 0;
  Status reload_result = Ok();
  bool pausable = true;
  std::vector<bool> pause_requests;
};

Uevent MakeEvent(int seqnum, size_t padding = 0) {
  Uevent event;
  event.Set("ACTION", "add");
  event.Set("DEVPATH", "/devices/virtual/block/loop" + std::to_string(seqnum % 8));
  event.Set("SUBSYSTEM", "block");
  event.Set("SEQNUM", std::to_string(seqnum));
  if (padding > 0) event.Set("PADDING", std::string(padding, 'x'));
  return event;
}

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    run_fd_.reset(open(dir_.path().c_str(), O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(run_fd_);
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop) << loop.error().Message();
    loop_ = std::move(*loop);
    StartServer({});
  }

  void StartServer(const ControlServerOptions& options) {
    server_.reset();
    auto server = ControlServer::Start(*loop_, handler_, run_fd_.get(), dir_.path(), options);
    ASSERT_TRUE(server) << server.error().Message();
    server_ = std::move(*server);
  }

  // Lets the server handle whatever is pending (connections, requests).
  void Pump(int rounds = 3) {
    for (int i = 0; i < rounds; ++i) ASSERT_TRUE(loop_->RunOnce(10));
  }

  UniqueFd Connect() {
    auto fd = ConnectControlSocket(dir_.path());
    EXPECT_TRUE(fd) << fd.error().Message();
    return fd ? std::move(*fd) : UniqueFd();
  }

  // A message if one is queued for the client right now.
  std::optional<std::string> TryReceive(int fd) {
    auto message = ReceiveControlMessage(fd, 0, kMaxControlEventSize);
    if (!message) return std::nullopt;
    return *message;
  }

  std::string Exchange(int fd, std::string_view request) {
    EXPECT_TRUE(SendControlMessage(fd, request));
    for (int i = 0; i < 100; ++i) {
      Pump(1);
      if (auto reply = TryReceive(fd)) return *reply;
    }
    return "<no reply>";
  }

  bool PeerClosed(int fd) {
    auto message = ReceiveControlMessage(fd, 0, kMaxControlEventSize);
    return !message && message.error().code == ECONNRESET;
  }

  testing::TempDir dir_{"vdev-control"};
  UniqueFd run_fd_;
  std::unique_ptr<EventLoop> loop_;
  FakeHandler handler_;
  std::unique_ptr<ControlServer> server_;
};

TEST_F(ControlServerTest, SocketIsWorldAccessible) {
  struct stat st {};
  ASSERT_EQ(stat(dir_.Sub("vdev/control").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0666u);
}

TEST_F(ControlServerTest, AnswersPingAndRefusesNonsense) {
  UniqueFd client = Connect();
  EXPECT_EQ(Exchange(client.get(), "ping"), "ok");
  EXPECT_EQ(Exchange(client.get(), "fly"), "error: unknown request");
  EXPECT_EQ(Exchange(client.get(), "log-level=loud"), "error: invalid log level");
  EXPECT_EQ(Exchange(client.get(), std::string(kMaxControlRequestSize + 1, 'p')),
            "error: request too long");
  EXPECT_EQ(Exchange(client.get(), "ping"), "ok");  // still connected after the refusals
  EXPECT_EQ(server_->client_count(), 1u);
}

TEST_F(ControlServerTest, SettleRepliesAtOnceWhenSettled) {
  UniqueFd client = Connect();
  EXPECT_EQ(Exchange(client.get(), "settle"), "ok");
  EXPECT_EQ(Exchange(client.get(), "is-settled"), "ok");
  EXPECT_EQ(server_->settle_waiter_count(), 0u);
}

TEST_F(ControlServerTest, SettleWaitsForProgress) {
  handler_.settled = false;
  UniqueFd client = Connect();
  UniqueFd other = Connect();
  EXPECT_EQ(Exchange(other.get(), "is-settled"), "error: busy");
  ASSERT_TRUE(SendControlMessage(client.get(), "settle"));
  Pump();
  EXPECT_EQ(TryReceive(client.get()), std::nullopt);
  EXPECT_EQ(server_->settle_waiter_count(), 1u);

  server_->NotifyProgress();  // progress, but the queue is not empty yet
  Pump();
  EXPECT_EQ(TryReceive(client.get()), std::nullopt);

  handler_.settled = true;
  server_->NotifyProgress();
  EXPECT_EQ(TryReceive(client.get()), "ok");
  EXPECT_EQ(server_->settle_waiter_count(), 0u);
  EXPECT_EQ(TryReceive(other.get()), std::nullopt);  // nothing for clients that did not ask
}

TEST_F(ControlServerTest, WaitingSettleOfAClosedClientIsForgotten) {
  handler_.settled = false;
  {
    UniqueFd client = Connect();
    ASSERT_TRUE(SendControlMessage(client.get(), "settle"));
    Pump();
    EXPECT_EQ(server_->settle_waiter_count(), 1u);
  }
  Pump();
  EXPECT_EQ(server_->client_count(), 0u);
  EXPECT_EQ(server_->settle_waiter_count(), 0u);
  handler_.settled = true;
  server_->NotifyProgress();
}

TEST_F(ControlServerTest, ExitAndReloadReachTheHandler) {
  // Privileged requests over a real socket; MayRunCommand covers the refusal without root.
  if (geteuid() != 0) GTEST_SKIP() << "exit, reload and log-level are for uid 0";
  UniqueFd client = Connect();
  EXPECT_EQ(Exchange(client.get(), "reload"), "ok");
  EXPECT_EQ(handler_.reloads, 1);
  handler_.reload_result = Fail(EINVAL, "rules/50-x.rules:3: bad section");
  std::string reply = Exchange(client.get(), "reload");
  EXPECT_EQ(reply.rfind("error: rules/50-x.rules:3: bad section", 0), 0u) << reply;
  EXPECT_EQ(handler_.reloads, 2);
  EXPECT_EQ(handler_.exits, 0);
  EXPECT_EQ(Exchange(client.get(), "exit"), "ok");
  EXPECT_EQ(handler_.exits, 1);
}

TEST_F(ControlServerTest, ExecQueueRequestsReachTheHandler) {
  if (geteuid() != 0) GTEST_SKIP() << "the exec queue requests are for uid 0";
  UniqueFd client = Connect();
  EXPECT_EQ(Exchange(client.get(), "stop-exec-queue"), "ok");
  EXPECT_EQ(Exchange(client.get(), "start-exec-queue"), "ok");
  EXPECT_EQ(handler_.pause_requests, (std::vector<bool>{true, false}));
  // A daemon that cannot pause says so instead of pretending.
  handler_.pausable = false;
  std::string reply = Exchange(client.get(), "stop-exec-queue");
  EXPECT_EQ(reply.rfind("error: pausing the event queue is not supported", 0), 0u) << reply;
  EXPECT_EQ(Exchange(client.get(), "ping"), "ok");  // the connection goes on
}

TEST_F(ControlServerTest, LogLevelIsSetByTheServer) {
  // Privileged requests over a real socket; MayRunCommand covers the refusal without root.
  if (geteuid() != 0) GTEST_SKIP() << "exit, reload and log-level are for uid 0";
  LogLevel before = GetLogLevel();
  UniqueFd client = Connect();
  EXPECT_EQ(Exchange(client.get(), "log-level=debug"), "ok");
  EXPECT_EQ(GetLogLevel(), LogLevel::kDebug);
  EXPECT_EQ(Exchange(client.get(), "log-level=err"), "ok");
  EXPECT_EQ(GetLogLevel(), LogLevel::kError);
  SetLogLevel(before);
}

TEST_F(ControlServerTest, MonitorsReceivePublishedEventsInOrder) {
  UniqueFd first = Connect();
  UniqueFd second = Connect();
  UniqueFd bystander = Connect();
  EXPECT_EQ(Exchange(first.get(), "monitor"), "ok");
  EXPECT_EQ(Exchange(second.get(), "monitor"), "ok");
  EXPECT_EQ(Exchange(bystander.get(), "ping"), "ok");
  EXPECT_EQ(server_->subscriber_count(), 2u);

  for (int seqnum = 1; seqnum <= 100; ++seqnum) server_->Publish(MakeEvent(seqnum));
  for (int fd : {first.get(), second.get()}) {
    for (int seqnum = 1; seqnum <= 100; ++seqnum) {
      auto message = TryReceive(fd);
      ASSERT_TRUE(message) << "event " << seqnum;
      EXPECT_EQ(*message, FormatProperties(MakeEvent(seqnum)));
    }
    EXPECT_EQ(TryReceive(fd), std::nullopt);
  }
  EXPECT_EQ(TryReceive(bystander.get()), std::nullopt);
}

TEST_F(ControlServerTest, StuckMonitorIsDroppedWithoutBlocking) {
  UniqueFd stuck = Connect();
  UniqueFd bystander = Connect();
  EXPECT_EQ(Exchange(stuck.get(), "monitor"), "ok");
  EXPECT_EQ(Exchange(bystander.get(), "ping"), "ok");
  // Far more than any send buffer holds: a blocking send would hang this test.
  for (int seqnum = 1; seqnum <= 20000; ++seqnum) server_->Publish(MakeEvent(seqnum, 400));
  EXPECT_EQ(server_->subscriber_count(), 0u);
  EXPECT_EQ(server_->client_count(), 1u);

  // The monitor gets what was queued, in order and without gaps, then end-of-file.
  int expected = 1;
  for (;;) {
    auto message = ReceiveControlMessage(stuck.get(), 0, kMaxControlEventSize);
    if (!message) {
      EXPECT_EQ(message.error().code, ECONNRESET) << message.error().Message();
      break;
    }
    auto event = ParseUeventFile(*message);
    ASSERT_TRUE(event);
    ASSERT_EQ(event->seqnum(), static_cast<uint64_t>(expected));
    ++expected;
  }
  EXPECT_GT(expected, 1);
  EXPECT_LT(expected, 20000);
  EXPECT_EQ(Exchange(bystander.get(), "ping"), "ok");
}

TEST_F(ControlServerTest, DisconnectsAreCleanedUp) {
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 5; ++i) clients.push_back(Connect());
  Pump();
  EXPECT_EQ(server_->client_count(), 5u);
  EXPECT_EQ(Exchange(clients[0].get(), "monitor"), "ok");
  EXPECT_EQ(server_->subscriber_count(), 1u);
  clients[0].reset();
  clients[1].reset();
  clients[2].reset();
  Pump();
  EXPECT_EQ(server_->client_count(), 2u);
  EXPECT_EQ(server_->subscriber_count(), 0u);
  server_->Publish(MakeEvent(1));  // no subscriber left to write to
  EXPECT_EQ(Exchange(clients[3].get(), "ping"), "ok");
}

TEST_F(ControlServerTest, ClientCountIsBounded) {
  ControlServerOptions options;
  options.max_clients = 4;
  options.reserved_for_root = 2;
  StartServer(options);
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 6; ++i) clients.push_back(Connect());
  Pump(5);
  // Unprivileged peers may not take the connections kept for root.
  size_t expected = geteuid() == 0 ? 4 : 2;
  EXPECT_EQ(server_->client_count(), expected);
  for (size_t i = 0; i < clients.size(); ++i) {
    if (i < expected) {
      EXPECT_EQ(Exchange(clients[i].get(), "ping"), "ok");
    } else {
      EXPECT_EQ(TryReceive(clients[i].get()), "error: too many clients");
      EXPECT_TRUE(PeerClosed(clients[i].get()));
    }
  }
  // A slot freed by a leaving client is available again.
  clients[0].reset();
  Pump();
  UniqueFd late = Connect();
  EXPECT_EQ(Exchange(late.get(), "ping"), "ok");
}

TEST_F(ControlServerTest, RefusesToShareTheSocketWithALiveServer) {
  auto second = ControlServer::Start(*loop_, handler_, run_fd_.get(), dir_.path());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, EADDRINUSE);
  UniqueFd client = Connect();
  EXPECT_EQ(Exchange(client.get(), "ping"), "ok");  // the first one is untouched
}

TEST_F(ControlServerTest, RemovesItsSocketOnShutdownAndReplacesAStaleOne) {
  UniqueFd client = Connect();
  Pump();
  server_.reset();
  EXPECT_TRUE(PeerClosed(client.get()));
  EXPECT_NE(access(dir_.Sub("vdev/control").c_str(), F_OK), 0);

  // A daemon that died leaves its socket file behind, with nobody listening.
  {
    auto address = ControlSocketAddress(dir_.path());
    ASSERT_TRUE(address);
    UniqueFd dead(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    ASSERT_EQ(bind(dead.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof(*address)), 0);
  }
  EXPECT_EQ(ConnectControlSocket(dir_.path()).error().code, ECONNREFUSED);
  StartServer({});
  UniqueFd fresh = Connect();
  EXPECT_EQ(Exchange(fresh.get(), "ping"), "ok");
}

TEST_F(ControlServerTest, LeavesForeignFilesAlone) {
  server_.reset();
  UniqueFd file(openat(run_fd_.get(), "vdev/control", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  ASSERT_TRUE(file);
  auto server = ControlServer::Start(*loop_, handler_, run_fd_.get(), dir_.path());
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error().code, EEXIST);
  EXPECT_EQ(access(dir_.Sub("vdev/control").c_str(), F_OK), 0);
}

TEST_F(ControlServerTest, RefusesASocketPathThatDoesNotFit) {
  std::string deep = dir_.path();
  while (deep.size() < sizeof(sockaddr_un::sun_path)) deep += "/deeper";
  auto server = ControlServer::Start(*loop_, handler_, run_fd_.get(), deep);
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error().code, ENAMETOOLONG);
}

}  // namespace
}  // namespace vdev
