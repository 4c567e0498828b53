//! Prometheus metrics in the text exposition format: signatures and refusals by key and
//! rule, and request latency by route.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bound, count) in BUCKETS.iter().zip(self.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

#[derive(Debug, Default)]
struct Inner {
    signatures: BTreeMap<(String, &'static str), u64>,
    refusals: BTreeMap<(String, &'static str), u64>,
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

/// The signer's counters and histograms.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut inner)
    }

    /// Counts a signature by key `key` of a transaction of type `kind`.
    pub fn signed(&self, key: &str, kind: &'static str) {
        self.with(|m| *m.signatures.entry((key.to_owned(), kind)).or_default() += 1);
    }

    /// Counts a refusal of rule `rule` for key `key`.
    pub fn refused(&self, key: &str, rule: &'static str) {
        self.with(|m| *m.refusals.entry((key.to_owned(), rule)).or_default() += 1);
    }

    /// Records one request to `route` answered with `status` after `elapsed`.
    pub fn request(&self, route: &str, status: u16, elapsed: Duration) {
        self.with(|m| {
            *m.requests.entry((route.to_owned(), status)).or_default() += 1;
            m.latency
                .entry(route.to_owned())
                .or_default()
                .observe(elapsed.as_secs_f64());
        });
    }

    /// Renders every metric in the Prometheus text format.
    #[must_use]
    pub fn render(&self) -> String {
        self.with(|m| {
            let mut out = String::new();
            // Writing to a String cannot fail.
            let _ = writeln!(
                out,
                "# HELP signer_signatures_total Transactions signed, by key and type.\n\
                 # TYPE signer_signatures_total counter"
            );
            for ((key, kind), n) in &m.signatures {
                let _ = writeln!(
                    out,
                    "signer_signatures_total{{key=\"{}\",type=\"{kind}\"}} {n}",
                    escape(key)
                );
            }
            let _ = writeln!(
                out,
                "# HELP signer_refusals_total Sign requests refused, by key and rule.\n\
                 # TYPE signer_refusals_total counter"
            );
            for ((key, rule), n) in &m.refusals {
                let _ = writeln!(
                    out,
                    "signer_refusals_total{{key=\"{}\",rule=\"{rule}\"}} {n}",
                    escape(key)
                );
            }
            let _ = writeln!(
                out,
                "# HELP signer_requests_total HTTP requests, by route and status.\n\
                 # TYPE signer_requests_total counter"
            );
            for ((route, status), n) in &m.requests {
                let _ = writeln!(
                    out,
                    "signer_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
            let _ = writeln!(
                out,
                "# HELP signer_request_duration_seconds HTTP request latency, by route.\n\
                 # TYPE signer_request_duration_seconds histogram"
            );
            for (route, h) in &m.latency {
                let route = escape(route);
                for (bound, count) in BUCKETS.iter().zip(h.counts.iter()) {
                    let _ = writeln!(
                        out,
                        "signer_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                    );
                }
                let _ = writeln!(
                    out,
                    "signer_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                     signer_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                     signer_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count, h.sum, h.count
                );
            }
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histogram() {
        let metrics = Metrics::default();
        metrics.signed("hot", "eip1559");
        metrics.signed("hot", "eip1559");
        metrics.refused("hot", "max_value_exceeded");
        metrics.request("/v1/keys/{id}/sign", 200, Duration::from_micros(700));
        let text = metrics.render();
        assert!(text.contains("signer_signatures_total{key=\"hot\",type=\"eip1559\"} 2"));
        assert!(text.contains("signer_refusals_total{key=\"hot\",rule=\"max_value_exceeded\"} 1"));
        assert!(text.contains(
            "signer_request_duration_seconds_bucket{route=\"/v1/keys/{id}/sign\",le=\"0.0005\"} 0"
        ));
        assert!(text.contains(
            "signer_request_duration_seconds_bucket{route=\"/v1/keys/{id}/sign\",le=\"0.001\"} 1"
        ));
        assert!(
            text.contains("signer_request_duration_seconds_count{route=\"/v1/keys/{id}/sign\"} 1")
        );
    }
}
