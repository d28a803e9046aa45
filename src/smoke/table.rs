//! The smoke run as a table for a person: one row per cloud with its result, each phase's
//! duration, the destroy, the total and the resources left; then, for each failed cloud, its
//! error and where its logs are. Pure: returns text.

use std::fmt::Write;

use super::report::{Report, Verdict, phase_names as phases};

/// The table and the failure notes.
pub fn render(report: &Report) -> String {
    let mut header: Vec<String> = vec!["cloud".into(), "result".into()];
    header.extend(phases().map(String::from));
    header.extend(["total".into(), "left".into()]);
    let mut rows = vec![header];
    for c in &report.clouds {
        let mut row = vec![
            c.cloud.to_string(),
            match c.result {
                Verdict::Pass => "pass".into(),
                Verdict::Fail => "FAIL".into(),
            },
        ];
        for name in phases() {
            row.push(match c.phase(name) {
                Some(p) if p.ok => format!("{:.1}s", p.seconds),
                Some(p) => format!("!{:.1}s", p.seconds),
                None => "-".into(),
            });
        }
        row.push(format!("{:.1}s", c.total_s));
        row.push(match (c.leftovers, report.kept) {
            (_, true) => "kept".into(),
            (Some(n), false) => n.to_string(),
            (None, false) => "?".into(),
        });
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if i < 2 {
                    format!("{cell:<w$}", w = widths[i])
                } else {
                    format!("{cell:>w$}", w = widths[i])
                }
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    let _ = writeln!(
        out,
        "smoke {}: {} of {} passed in {:.1}s{}",
        report.run_id,
        report.clouds.len() - report.failures(),
        report.clouds.len(),
        report.wall_s,
        if report.interrupted {
            " (interrupted)"
        } else {
            ""
        }
    );
    for c in report.clouds.iter().filter(|c| c.result == Verdict::Fail) {
        let _ = writeln!(out, "\n{} failed:", c.cloud);
        for line in c.details().lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::report::tests::sample;
    use super::*;

    #[test]
    fn one_aligned_row_per_cloud_then_the_failures() {
        let text = render(&sample());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "cloud  result  preflight  infra   dns  bootstrap  install  healthy  verify  destroy  total  left"
        );
        assert_eq!(
            lines[1],
            "aws    pass         0.4s   2.2s  1.0s      20.0s    30.5s    10.0s    0.5s     3.0s  68.0s     0"
        );
        assert_eq!(
            lines[2],
            "gcp    FAIL         0.5s      -     -          -    !7.0s        -       -     2.0s  40.0s     0"
        );
        assert_eq!(lines[3], "smoke ab12cd: 1 of 2 passed in 70.5s");
        assert!(text.contains("\ngcp failed:\n  environment smoke-gcp-ab12cd (gcp-ab12cd.test)\n  deploy: install failed"), "{text}");
        assert!(
            text.contains(
                "  deploy logs: /st/smoke-ab12cd/gcp-deploy.out /st/smoke-ab12cd/gcp-deploy.err"
            ),
            "{text}"
        );
        assert!(!text.contains("aws failed"));
    }

    #[test]
    fn kept_and_uncounted_leftovers_are_shown_as_such() {
        let mut r = sample();
        r.clouds[1].leftovers = None;
        assert!(render(&r).lines().nth(2).unwrap().ends_with("?"));
        r.kept = true;
        assert!(render(&r).lines().nth(1).unwrap().ends_with("kept"));
    }
}
