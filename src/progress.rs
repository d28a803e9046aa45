//! What the user sees while a run goes: one progress line per step with its elapsed time
//! (indicatif), or with `--json` one [`Event`] per line for each step start, end and note.
//! Both are fed by the pipeline's `Events`; nothing else prints progress.

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::event::Event;
use crate::pipeline::{Events, Step};

/// Progress lines on stderr for a person.
#[derive(Default)]
pub struct Human {
    bars: Mutex<Vec<(Step, ProgressBar)>>,
}

impl Events for Human {
    fn step_started(&self, step: Step) {
        let bar = ProgressBar::new_spinner().with_message(step.as_str());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg:<10} {elapsed:>4}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        self.bars
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((step, bar));
    }

    fn step_finished(&self, step: Step, elapsed: Duration, error: Option<String>) {
        let mut bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = bars.iter().position(|(s, _)| *s == step) {
            let (_, bar) = bars.remove(i);
            bar.finish_and_clear();
        }
        // A failure is reported once, by the final error line that names the step.
        if error.is_none() {
            eprintln!(
                "{:<10} done   {:>7.1}s",
                step.as_str(),
                elapsed.as_secs_f64()
            );
        }
    }

    fn note(&self, step: Step, message: &str) {
        let bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        let line = format!("{:<10} {message}", step.as_str());
        match bars.first() {
            // Above the spinners on a terminal; a hidden bar (not a terminal) drops printlns.
            Some((_, bar)) if !bar.is_hidden() => bar.println(line),
            _ => eprintln!("{line}"),
        }
    }

    fn output(&self, step: Step, line: &str) {
        let bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, bar)) = bars.iter().find(|(s, _)| *s == step) {
            let shown: String = line.chars().take(70).collect();
            bar.set_message(format!("{} | {shown}", step.as_str()));
        }
    }
}

/// One JSON event per line on stdout (see [`Event`]).
pub struct Json;

impl Events for Json {
    fn step_started(&self, step: Step) {
        Event::StepStarted { step }.emit();
    }

    fn step_finished(&self, step: Step, elapsed: Duration, error: Option<String>) {
        Event::StepFinished {
            step,
            ok: error.is_none(),
            elapsed_s: elapsed.as_secs_f64(),
            error,
        }
        .emit();
    }

    fn note(&self, step: Step, message: &str) {
        Event::Note {
            step,
            message: message.to_string(),
        }
        .emit();
    }
}
