//! Turning an SSH channel's byte chunks into lines for a `LineSink`, and exit signals into
//! shell-style exit codes (128 + signal number).

use russh::Sig;

use crate::remote::{LineSink, Stream};

pub(super) fn signal_number(sig: &Sig) -> u32 {
    match sig {
        Sig::HUP => 1,
        Sig::INT => 2,
        Sig::QUIT => 3,
        Sig::ILL => 4,
        Sig::ABRT => 6,
        Sig::FPE => 8,
        Sig::KILL => 9,
        Sig::USR1 => 10,
        Sig::SEGV => 11,
        Sig::PIPE => 13,
        Sig::ALRM => 14,
        Sig::TERM => 15,
        Sig::Custom(_) => 127,
    }
}

/// Splits a byte stream into lines for the sink while keeping the whole text.
pub(super) struct Lines {
    stream: Stream,
    pending: Vec<u8>,
    all: Vec<u8>,
}

impl Lines {
    pub(super) fn new(stream: Stream) -> Self {
        Lines {
            stream,
            pending: Vec::new(),
            all: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, data: &[u8], sink: &mut dyn LineSink) {
        self.all.extend_from_slice(data);
        self.pending.extend_from_slice(data);
        while let Some(i) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=i).collect();
            emit(self.stream, &line[..i], sink);
        }
    }

    pub(super) fn finish(self, sink: &mut dyn LineSink) -> String {
        if !self.pending.is_empty() {
            emit(self.stream, &self.pending, sink);
        }
        String::from_utf8_lossy(&self.all).into_owned()
    }
}

fn emit(stream: Stream, line: &[u8], sink: &mut dyn LineSink) {
    let text = String::from_utf8_lossy(line);
    sink.line(stream, text.strip_suffix('\r').unwrap_or(&text));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect(Vec<(Stream, String)>);

    impl LineSink for Collect {
        fn line(&mut self, s: Stream, l: &str) {
            self.0.push((s, l.to_string()));
        }
    }

    #[test]
    fn lines_split_across_chunks_and_keep_the_whole_text() {
        let mut sink = Collect::default();
        let mut l = Lines::new(Stream::Stderr);
        l.push(b"one\ntw", &mut sink);
        l.push(b"o\r\nthree", &mut sink);
        let all = l.finish(&mut sink);
        let got: Vec<&str> = sink.0.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(got, ["one", "two", "three"]);
        assert!(sink.0.iter().all(|(s, _)| *s == Stream::Stderr));
        assert_eq!(all, "one\ntwo\r\nthree");
    }

    #[test]
    fn signals_map_to_shell_exit_codes() {
        assert_eq!(128 + signal_number(&Sig::KILL), 137);
        assert_eq!(128 + signal_number(&Sig::TERM), 143);
    }
}
