#include "control/load_generator.h"

#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "net/asio.h"

namespace dw::control {

using namespace dw::net;  // NOLINT: Asio and Beast aliases.

std::string LoadReport::toJson() const {
  nlohmann::ordered_json out = {{"sent", sent},       {"ok", ok},
                                {"skipped", skipped}, {"errors", errors},
                                {"seconds", seconds}, {"rate", seconds > 0 ? sent / seconds : 0},
                                {"p50_seconds", p50}, {"p95_seconds", p95},
                                {"p99_seconds", p99}, {"max_seconds", max}};
  return out.dump();
}

LoadGenerator::LoadGenerator(LoadOptions options) : options_(std::move(options)) {}

void LoadGenerator::setBodies(std::vector<std::string> bodies) {
  if (bodies.empty()) {
    return;
  }
  std::lock_guard lock(bodies_mutex_);
  next_bodies_ = std::make_shared<const std::vector<std::string>>(std::move(bodies));
  bodies_changed_.store(true);
}

namespace {

struct Target {
  std::string host;
  std::string port;
  std::string authority;
  std::string path;
};

StatusOr<Target> parseTarget(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (!std::string_view(url).starts_with(kScheme)) {
    return invalidArgument("'" + url + "' is not an http:// URL");
  }
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  size_t slash = rest.find('/');
  Target t;
  t.authority = std::string(rest.substr(0, slash));
  t.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  size_t colon = t.authority.rfind(':');
  t.host = t.authority.substr(0, colon);
  t.port = colon == std::string::npos ? "80" : t.authority.substr(colon + 1);
  return t;
}

// The shared state of a run; every coroutine runs on the one io_context thread.
struct Run {
  Run(asio::io_context& io_in, LoadOptions options_in, Target target_in)
      : io(io_in), options(std::move(options_in)), target(std::move(target_in)), latency(buckets) {}
  asio::io_context& io;
  std::chrono::steady_clock::time_point start;
  LoadOptions options;
  Target target;
  tcp::resolver::results_type endpoints;
  std::vector<std::unique_ptr<beast::tcp_stream>> idle;
  int in_flight = 0;
  stats::LogBuckets buckets{0.01, 1e-5, 1e3};
  stats::LogHistogram latency;
  LoadReport report;
};

asio::awaitable<void> oneRequest(std::shared_ptr<Run> run, size_t index) {
  ++run->in_flight;
  ++run->report.sent;
  const auto started = std::chrono::steady_clock::now();
  std::unique_ptr<beast::tcp_stream> stream;
  if (!run->idle.empty()) {
    stream = std::move(run->idle.back());
    run->idle.pop_back();
  }
  error_code ec;
  std::string error;
  int status = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = stream != nullptr;
    if (!stream) {
      stream = std::make_unique<beast::tcp_stream>(run->io);
      stream->expires_after(run->options.timeout);
      co_await stream->async_connect(run->endpoints, redirect(ec));
      if (ec) {
        error = ec == beast::error::timeout ? "timeout" : "connect";
        stream.reset();
        break;
      }
    }
    stream->expires_after(run->options.timeout);
    http::request<http::string_body> request(
        run->options.bodies.empty() ? http::verb::get : http::verb::post, run->target.path, 11);
    request.set(http::field::host, run->target.authority);
    request.set(http::field::user_agent, "deepwatch-load");
    for (const auto& [name, value] : run->options.headers) {
      request.set(name, value);
    }
    if (!run->options.bodies.empty()) {
      request.set(http::field::content_type, "application/json");
      request.body() = run->options.bodies[index % run->options.bodies.size()];
    }
    request.prepare_payload();
    co_await http::async_write(*stream, request, redirect(ec));
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    if (!ec) {
      co_await http::async_read(*stream, buffer, parser, redirect(ec));
    }
    if (ec && reused && ec != beast::error::timeout) {
      stream.reset();  // A pooled connection the server closed: try once on a new one.
      continue;
    }
    if (ec) {
      error = ec == beast::error::timeout ? "timeout" : "reset";
      stream.reset();
      break;
    }
    status = static_cast<int>(parser.get().result_int());
    if (!parser.get().keep_alive()) {
      stream.reset();
    }
    break;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (status >= 200 && status < 300) {
    ++run->report.ok;
    run->latency.add(seconds);
  } else {
    ++run->report.errors[status != 0 ? std::to_string(status) : error];
    if (status != 0) {
      run->latency.add(seconds);
    }
  }
  if (stream) {
    stream->expires_never();
    run->idle.push_back(std::move(stream));
  }
  --run->in_flight;
  if (run->options.on_result) {
    RequestResult result;
    result.started = std::chrono::duration<double>(started - run->start).count();
    result.seconds = seconds;
    result.status = status;
    if (status < 200 || status >= 300) {
      result.error = status != 0 ? std::to_string(status) : error;
    }
    run->options.on_result(result);
  }
}

// The rate at `t` seconds into the run: fixed, a ramp over the whole run, or a ramp over
// `options.ramp` and then a hold.
double rateAt(const LoadOptions& options, double t, double total) {
  if (options.ramp_to < 0) {
    return options.rate;
  }
  const double ramp = options.ramp.count() > 0 ? toSeconds(options.ramp) : total;
  if (t >= ramp) {
    return options.ramp_to;
  }
  return options.rate + (options.ramp_to - options.rate) * t / ramp;
}

void fillQuantiles(Run& run) {
  run.report.p50 = run.latency.count() ? run.latency.quantile(0.5) : 0;
  run.report.p95 = run.latency.count() ? run.latency.quantile(0.95) : 0;
  run.report.p99 = run.latency.count() ? run.latency.quantile(0.99) : 0;
  run.report.max = run.latency.count() ? run.latency.quantile(1.0) : 0;
}

}  // namespace

StatusOr<LoadReport> LoadGenerator::run(const std::function<void(const LoadReport&)>& on_second) {
  DW_ASSIGN_OR_RETURN(Target target, parseTarget(options_.url));
  asio::io_context io(1);
  auto run = std::make_shared<Run>(io, options_, target);
  tcp::resolver resolver(io);
  error_code ec;
  run->endpoints = resolver.resolve(target.host, target.port, ec);
  if (ec) {
    return unavailable("cannot resolve " + target.host + ": " + ec.message());
  }
  const auto start = std::chrono::steady_clock::now();
  run->start = start;
  asio::co_spawn(
      io,
      [run, start, on_second, this]() -> asio::awaitable<void> {
        asio::steady_timer timer(run->io);
        const double total = std::chrono::duration<double>(run->options.duration).count();
        double next_report = 1;
        size_t index = 0;
        double t = 0;  // Seconds since the start of the next request's slot.
        while (t < total && !stopping_.load()) {
          // The rate at time t, and the gap to the next request.
          const double rate = rateAt(run->options, t, total);
          timer.expires_at(start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                       std::chrono::duration<double>(t)));
          error_code ec;
          co_await timer.async_wait(redirect(ec));
          if (stopping_.load()) {
            break;
          }
          if (bodies_changed_.exchange(false)) {
            // A lock only when the bodies were replaced since the last request.
            std::lock_guard lock(bodies_mutex_);
            if (next_bodies_) {
              run->options.bodies = *next_bodies_;
            }
          }
          if (run->in_flight >= run->options.max_in_flight) {
            ++run->report.skipped;
          } else {
            asio::co_spawn(run->io, oneRequest(run, index++), asio::detached);
          }
          if (on_second && t >= next_report) {
            run->report.seconds = t;
            fillQuantiles(*run);
            on_second(run->report);
            next_report += 1;
          }
          t += 1.0 / std::max(rate, 0.001);
        }
      },
      asio::detached);
  io.run();
  run->report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fillQuantiles(*run);
  return run->report;
}

}  // namespace dw::control
