#pragma once
// Certificates for the TLS suites, made by the openssl command-line tool in a temporary directory
// once per test process (TestCertificates::get()) and removed at exit. EC P-256 keys: fast to make.
//
//   ca                  "greenrpc test CA", signs the ones below unless said otherwise
//   server              CN=localhost, SAN DNS:localhost, IP:127.0.0.1
//   server2             the same names, another key (certificate rotation)
//   client              CN=alice, SAN URI:spiffe://test/alice (clientAuth)
//   other_ca            an unrelated CA; other_server: server's names, signed by other_ca
//   expired             server's names, valid 2020-01-01 to 2020-01-02 only (openssl ca -enddate)
//   self_signed         server's names, self-signed (for pinning); self_signed2: another one
//   wrong_host          SAN DNS:other.example only
//   intermediate        a CA signed by ca; chained: server's names, signed by intermediate, its
//                       .pem holding the leaf then the intermediate (a server's usual chain file)
//
// Each has `<name>.pem` and (but the CAs' keys, kept too) `<name>.key` in dir().
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace test_support {

class TestCertificates {
 public:
  // Made on first use (thread-safe); the directory goes when the process exits normally.
  static const TestCertificates& get() {
    static const TestCertificates certs;
    return certs;
  }

  const std::string& dir() const { return dir_; }
  std::string pem(const std::string& name) const { return dir_ + "/" + name + ".pem"; }
  std::string key(const std::string& name) const { return dir_ + "/" + name + ".key"; }

  // A fresh path in the directory (for tests that write or replace files).
  std::string scratch(const std::string& name) const { return dir_ + "/scratch-" + name; }

  ~TestCertificates() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

 private:
  TestCertificates() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "greenrpc-tls-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("TestCertificates: mkdtemp failed");
    dir_ = tmpl;
    write(dir_ + "/openssl.cnf", std::string(kConfig) + "database = " + dir_ + "/ca-db/index.txt\nnew_certs_dir = " +
                                           dir_ + "/ca-db\nserial = " + dir_ + "/ca-db/serial\n");
    std::filesystem::create_directory(dir_ + "/ca-db");
    write(dir_ + "/ca-db/index.txt", "");
    write(dir_ + "/ca-db/serial", "1000\n");

    make_ca("ca", "greenrpc test CA");
    make_ca("other_ca", "unrelated test CA");
    signed_by("ca", "server", "localhost", "server_cert", 11);
    signed_by("ca", "server2", "localhost", "server_cert", 12);
    signed_by("ca", "client", "alice", "client_cert", 13);
    signed_by("ca", "wrong_host", "other.example", "wrong_host_cert", 14);
    signed_by("other_ca", "other_server", "localhost", "server_cert", 15);
    signed_by("ca", "intermediate", "greenrpc test intermediate CA", "ca_cert", 16);
    signed_by("intermediate", "chained_leaf", "localhost", "server_cert", 17);
    {
      std::ifstream leaf(pem("chained_leaf")), inter(pem("intermediate"));
      std::stringstream both;
      both << leaf.rdbuf() << inter.rdbuf();
      write(pem("chained"), both.str());
      std::filesystem::copy_file(key("chained_leaf"), key("chained"));
    }
    self_signed("self_signed");
    self_signed("self_signed2");
    // Expired: `openssl x509` (3.0) cannot set the dates; `openssl ca` can, with a database.
    request("expired", "localhost");
    run({"openssl", "ca", "-batch", "-config", cnf(), "-name", "test_ca", "-cert", pem("ca"), "-keyfile", key("ca"),
         "-in", dir_ + "/expired.csr", "-out", pem("expired"), "-extensions", "server_cert", "-startdate",
         "20200101000000Z", "-enddate", "20200102000000Z", "-notext"});
  }

  std::string cnf() const { return dir_ + "/openssl.cnf"; }

  static void write(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f) throw std::runtime_error("TestCertificates: cannot write " + path);
  }

  // Runs argv[0] from PATH, output to a log; throws with the log on failure.
  void run(std::vector<std::string> argv) const {
    const std::string log = dir_ + "/openssl.log";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    if (rc == 0) ::waitpid(pid, &status, 0);
    if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::ifstream f(log);
      std::stringstream out;
      out << f.rdbuf();
      std::string cmd;
      for (const auto& a : argv) cmd += a + " ";
      throw std::runtime_error("TestCertificates: failed (" + std::to_string(rc) + ", status " +
                               std::to_string(status) + "): " + cmd + "\n" + out.str());
    }
  }

  void make_ca(const std::string& name, const std::string& cn) {
    run({"openssl", "req", "-x509", "-config", cnf(), "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key(name), "-out", pem(name), "-subj", "/O=greenrpc tests/CN=" + cn, "-days", "30",
         "-extensions", "ca_cert"});
  }
  void request(const std::string& name, const std::string& cn) {
    run({"openssl", "req", "-new", "-config", cnf(), "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key(name), "-out", dir_ + "/" + name + ".csr", "-subj", "/CN=" + cn});
  }
  void signed_by(const std::string& ca, const std::string& name, const std::string& cn, const std::string& section,
                 int serial) {
    request(name, cn);
    run({"openssl", "x509", "-req", "-in", dir_ + "/" + name + ".csr", "-CA", pem(ca), "-CAkey", key(ca),
         "-set_serial", std::to_string(serial), "-days", "30", "-extfile", cnf(), "-extensions", section, "-out",
         pem(name)});
  }
  void self_signed(const std::string& name) {
    run({"openssl", "req", "-x509", "-config", cnf(), "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key(name), "-out", pem(name), "-subj", "/CN=localhost", "-days", "30", "-extensions",
         "server_cert"});
  }

  static constexpr const char* kConfig = R"(# greenrpc TLS tests
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
CN = unused

[ca_cert]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[server_cert]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1

[client_cert]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = URI:spiffe://test/alice

[wrong_host_cert]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.example

[any_name]
commonName = supplied

[test_ca]
default_md = sha256
policy = any_name
unique_subject = no
)";

  std::string dir_;
};

}  // namespace test_support
