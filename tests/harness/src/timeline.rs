//! A deployment's timeline as `carto-provision --json` prints it: the `span` events (pipeline
//! steps, cloud calls, remote steps, each with its start and end in ms), read back by the
//! benchmarks in `src/bin/`.

/// One `span` line: kind (`step`, `cloud`, `remote`), name, start and end in ms.
#[derive(Debug, Clone)]
pub struct Span {
    pub kind: String,
    pub name: String,
    pub start: f64,
    pub end: f64,
}

/// The spans of a run, in the order printed.
pub struct Timeline(pub Vec<Span>);

impl Timeline {
    /// The `span` events among `--json` stdout's lines (other events and lines skipped).
    pub fn parse(stdout: &str) -> Timeline {
        let spans = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["event"] == "span")
            .map(|v| Span {
                kind: v["kind"].as_str().unwrap_or_default().to_string(),
                name: v["name"].as_str().unwrap_or_default().to_string(),
                start: v["started_ms"].as_f64().unwrap_or(0.0),
                end: v["ended_ms"].as_f64().unwrap_or(0.0),
            })
            .collect();
        Timeline(spans)
    }

    /// The first span of that kind and name (a deployment makes each cloud call once).
    pub fn find(&self, kind: &str, name: &str) -> Option<&Span> {
        self.0.iter().find(|s| s.kind == kind && s.name == name)
    }

    /// How long `name` took, 0 when the run has no such span.
    pub fn took(&self, kind: &str, name: &str) -> f64 {
        self.find(kind, name).map_or(0.0, |s| s.end - s.start)
    }

    /// The end of the last span: the deployment's wall time on its own clock.
    pub fn wall(&self) -> f64 {
        self.0.iter().map(|s| s.end).fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_spans_and_skips_other_lines() {
        let out = r#"{"event":"span","kind":"cloud","name":"ensure_vm","started_ms":100,"ended_ms":350,"ok":true}
{"event":"step","name":"infra"}
not json
{"event":"span","kind":"step","name":"infra","started_ms":90,"ended_ms":400,"ok":true}"#;
        let t = Timeline::parse(out);
        assert_eq!(t.0.len(), 2);
        assert_eq!(t.took("cloud", "ensure_vm"), 250.0);
        assert_eq!(t.took("cloud", "ensure_ssh_key"), 0.0);
        assert_eq!(t.wall(), 400.0);
    }
}
