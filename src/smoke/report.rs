//! The smoke run's result as data ([`Report`], one [`CloudResult`] per cloud), and its JSON and
//! JUnit renderings. Pure: nothing here runs or prints. Every text in it comes from our own
//! events and error lines, which never carry a secret.

use std::fmt::Write;

use carto_core::Cloud;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::child::Logs;
use super::events::Phase;
use crate::pipeline::events::{DEPLOY_STEPS, Step};

/// The phases a cloud's result can hold, in order: the deployment's steps, then `destroy`.
pub fn phase_names() -> impl Iterator<Item = &'static str> {
    DEPLOY_STEPS
        .iter()
        .chain([&Step::Destroy])
        .map(|step| step.as_str())
}

/// A whole run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// The id in every name of the run.
    pub run_id: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its wall time, in seconds.
    pub wall_s: f64,
    /// Whether a signal stopped it.
    pub interrupted: bool,
    /// Whether the environments were kept (`--keep`).
    pub kept: bool,
    /// Whether every cloud passed.
    pub passed: bool,
    /// One entry per cloud, in the order given.
    pub clouds: Vec<CloudResult>,
}

/// Pass or fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Deployed, verified, destroyed, nothing left.
    Pass,
    /// Anything else.
    Fail,
}

/// One cloud's part.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CloudResult {
    /// The cloud.
    pub cloud: Cloud,
    /// Environment name.
    pub env: String,
    /// Domain.
    pub domain: String,
    /// Pass or fail.
    pub result: Verdict,
    /// The deployment's exit code (`None`: not started, or ended by a signal).
    pub exit_code: Option<i32>,
    /// Why it failed, one line per cause (deploy, destroy, leftovers).
    pub error: Option<String>,
    /// Each deployment step that finished, then `destroy` with the destroy's wall time.
    pub phases: Vec<Phase>,
    /// Deployment plus destroy wall time, in seconds.
    pub total_s: f64,
    /// How many resources were left after the destroy (`None`: could not be counted).
    pub leftovers: Option<usize>,
    /// The resources left, as `kind id`.
    pub leftover_resources: Vec<String>,
    /// Whether a destroy ran and ended well.
    pub destroyed: bool,
    /// The deployment's output files.
    pub deploy_logs: Logs,
    /// The destroy's output files, when it ran.
    pub destroy_logs: Option<Logs>,
}

impl Report {
    /// The number of clouds that failed.
    pub fn failures(&self) -> usize {
        self.clouds
            .iter()
            .filter(|c| c.result == Verdict::Fail)
            .count()
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// One JUnit test suite `smoke` with one test case per cloud.
    pub fn to_junit(&self) -> String {
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            x,
            "<testsuite name=\"smoke\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{:.3}\" timestamp=\"{}\">",
            self.clouds.len(),
            self.failures(),
            self.wall_s,
            self.started_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        );
        let _ = writeln!(
            x,
            "  <properties><property name=\"run_id\" value=\"{}\"/></properties>",
            escape(&self.run_id)
        );
        for c in &self.clouds {
            let _ = write!(
                x,
                "  <testcase classname=\"smoke\" name=\"{}\" time=\"{:.3}\">",
                c.cloud, c.total_s
            );
            if c.result == Verdict::Fail {
                let message = c.error.as_deref().unwrap_or("failed");
                let _ = write!(
                    x,
                    "\n    <failure message=\"{}\">{}</failure>\n  ",
                    escape(first_line(message)),
                    escape(&c.details())
                );
            }
            x.push_str("</testcase>\n");
        }
        x.push_str("</testsuite>\n");
        x
    }
}

impl CloudResult {
    /// The phase named `name`, if it finished.
    pub fn phase(&self, name: &str) -> Option<&Phase> {
        self.phases.iter().find(|p| p.phase == name)
    }

    /// What a reader needs to follow up a failure: env, domain, error, logs.
    pub fn details(&self) -> String {
        let mut d = format!("environment {} ({})\n", self.env, self.domain);
        if let Some(e) = &self.error {
            let _ = writeln!(d, "{e}");
        }
        for r in &self.leftover_resources {
            let _ = writeln!(d, "left: {r}");
        }
        let _ = writeln!(
            d,
            "deploy logs: {} {}",
            self.deploy_logs.stdout.display(),
            self.deploy_logs.stderr.display()
        );
        if let Some(l) = &self.destroy_logs {
            let _ = writeln!(
                d,
                "destroy logs: {} {}",
                l.stdout.display(),
                l.stderr.display()
            );
        }
        d
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

/// Text as XML attribute or element content: the five special characters escaped, and the
/// control characters XML 1.0 forbids dropped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::Path;

    use super::*;

    fn phase(name: &str, seconds: f64, ok: bool) -> Phase {
        Phase {
            phase: name.into(),
            seconds,
            ok,
        }
    }

    /// A two-cloud report: aws passed, gcp failed in install with markup in its error.
    pub fn sample() -> Report {
        let logs = |c: &str, s: &str| Logs::new(Path::new("/st/smoke-ab12cd"), &format!("{c}-{s}"));
        let pass = CloudResult {
            cloud: Cloud::Aws,
            env: "smoke-aws-ab12cd".into(),
            domain: "aws-ab12cd.test".into(),
            result: Verdict::Pass,
            exit_code: Some(0),
            error: None,
            phases: vec![
                phase("preflight", 0.4, true),
                phase("infra", 2.25, true),
                phase("dns", 1.0, true),
                phase("bootstrap", 20.0, true),
                phase("install", 30.5, true),
                phase("healthy", 10.0, true),
                phase("verify", 0.5, true),
                phase("destroy", 3.0, true),
            ],
            total_s: 68.0,
            leftovers: Some(0),
            leftover_resources: vec![],
            destroyed: true,
            deploy_logs: logs("aws", "deploy"),
            destroy_logs: Some(logs("aws", "destroy")),
        };
        let fail = CloudResult {
            cloud: Cloud::Gcp,
            env: "smoke-gcp-ab12cd".into(),
            domain: "gcp-ab12cd.test".into(),
            result: Verdict::Fail,
            exit_code: Some(4),
            error: Some(
                "deploy: install failed: install.sh printed \"[ERROR] <min> & more\"".into(),
            ),
            phases: vec![
                phase("preflight", 0.5, true),
                phase("install", 7.0, false),
                phase("destroy", 2.0, true),
            ],
            total_s: 40.0,
            leftovers: Some(0),
            leftover_resources: vec![],
            destroyed: true,
            deploy_logs: logs("gcp", "deploy"),
            destroy_logs: Some(logs("gcp", "destroy")),
        };
        Report {
            run_id: "ab12cd".into(),
            started_at: DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
                .unwrap()
                .with_timezone(&Utc),
            wall_s: 70.5,
            interrupted: false,
            kept: false,
            passed: false,
            clouds: vec![pass, fail],
        }
    }

    #[test]
    fn json_has_every_field_a_reader_needs() {
        let v: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(v["run_id"], "ab12cd");
        assert_eq!(v["started_at"], "2026-01-02T03:04:05Z");
        assert_eq!(v["passed"], false);
        let aws = &v["clouds"][0];
        assert_eq!(aws["cloud"], "aws");
        assert_eq!(aws["result"], "pass");
        assert_eq!(aws["exit_code"], 0);
        assert_eq!(aws["leftovers"], 0);
        assert_eq!(aws["phases"][1]["phase"], "infra");
        assert_eq!(aws["phases"][1]["seconds"], 2.25);
        assert_eq!(
            aws["deploy_logs"]["stderr"],
            "/st/smoke-ab12cd/aws-deploy.err"
        );
        let gcp = &v["clouds"][1];
        assert_eq!(gcp["result"], "fail");
        assert_eq!(gcp["exit_code"], 4);
        assert!(gcp["error"].as_str().unwrap().contains("[ERROR]"));
    }

    #[test]
    fn junit_has_one_case_per_cloud_and_escapes_the_failure() {
        let x = sample().to_junit();
        assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"smoke\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\" time=\"70.500\" timestamp=\"2026-01-02T03:04:05Z\">"), "{x}");
        assert_eq!(x.matches("<testcase ").count(), 2);
        assert!(
            x.contains("<testcase classname=\"smoke\" name=\"aws\" time=\"68.000\"></testcase>"),
            "{x}"
        );
        assert!(
            x.contains("<failure message=\"deploy: install failed: install.sh printed &quot;[ERROR] &lt;min&gt; &amp; more&quot;\">"),
            "{x}"
        );
        assert!(
            x.contains("deploy logs: /st/smoke-ab12cd/gcp-deploy.out"),
            "{x}"
        );
        assert_eq!(x.matches("<failure").count(), 1);
        assert!(x.trim_end().ends_with("</testsuite>"));
        // Nothing unescaped: every '<' opens one of our own tags.
        for piece in x.split('<').skip(1) {
            assert!(
                [
                    "?xml",
                    "testsuite",
                    "/testsuite",
                    "properties",
                    "/properties",
                    "property",
                    "testcase",
                    "/testcase",
                    "failure",
                    "/failure"
                ]
                .iter()
                .any(|t| piece.starts_with(t)),
                "stray '<' before {piece:?}"
            );
        }
    }

    #[test]
    fn escape_covers_the_special_and_control_characters() {
        assert_eq!(escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
        assert_eq!(escape("x\u{1b}[31my\tz\n"), "x[31my\tz\n");
    }
}
