//! Commands as data: a program plus argv, where an argument may be a secret.
//!
//! `Cmd::to_shell` is the ONE place in the program that turns arguments into shell text; it
//! single-quotes every word. `Cmd::display` renders the same command for humans with every
//! secret shown as `[REDACTED]`. Scripts that truly need a shell are constants written in our
//! code, run as `bash -c SCRIPT _ ARG…` with the values passed positionally, never interpolated.

use std::fmt;

/// A value that must never be printed: `Debug` and `Display` show `[REDACTED]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wrap a secret value.
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The secret value itself: call only where it is sent, never where it is shown.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// One argument of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// A value that may be shown.
    Plain(String),
    /// A value that is sent but never shown.
    Secret(Secret<String>),
    /// A whole command passed as one shell-text argument (for `sg GROUP -c …`, `sh -c …`).
    Shell(Box<Cmd>),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Plain(s.to_string())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Plain(s)
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Arg::Plain(s.clone())
    }
}

impl From<Secret<String>> for Arg {
    fn from(s: Secret<String>) -> Self {
        Arg::Secret(s)
    }
}

/// `cd DIR` then run the rest of the arguments, without interpolating DIR into the script.
const IN_DIR_SCRIPT: &str = r#"cd "$1" && shift && exec "$@""#;

/// A program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    /// The program name or path (never a secret).
    pub program: String,
    /// The arguments in order.
    pub args: Vec<Arg>,
}

impl Cmd {
    /// A command with no arguments yet.
    pub fn new(program: impl Into<String>) -> Self {
        Cmd {
            program: program.into(),
            args: Vec::new(),
        }
    }

    /// `sudo -n PROGRAM`: non-interactive, so a missing sudo rule fails instead of hanging.
    pub fn sudo(program: impl Into<String>) -> Self {
        Cmd::new("sudo").arg("-n").arg(program.into())
    }

    /// `bash -c SCRIPT _`: the script is a constant of our code; add values with `arg`.
    pub fn script(script: &'static str) -> Self {
        Cmd::new("bash").arg("-c").arg(script).arg("_")
    }

    /// Append one argument.
    pub fn arg(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Append several plain arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Arg>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Append a secret argument.
    pub fn secret(mut self, value: impl Into<String>) -> Self {
        self.args.push(Arg::Secret(Secret::new(value.into())));
        self
    }

    /// Run this command with `dir` as its working directory.
    pub fn in_dir(self, dir: &str) -> Cmd {
        let mut wrapped = Cmd::new("sh")
            .arg("-c")
            .arg(IN_DIR_SCRIPT)
            .arg("_")
            .arg(dir);
        wrapped.args.push(Arg::Plain(self.program));
        wrapped.args.extend(self.args);
        wrapped
    }

    /// Run this command with `group` as the primary group (`sg GROUP -c CMD`), so a group the
    /// user was just added to applies without logging in again.
    pub fn in_group(self, group: &str) -> Cmd {
        Cmd::new("sg")
            .arg(group)
            .arg("-c")
            .arg(Arg::Shell(Box::new(self)))
    }

    /// True when any argument (at any depth) is a secret.
    pub fn has_secret(&self) -> bool {
        self.args.iter().any(|a| match a {
            Arg::Plain(_) => false,
            Arg::Secret(_) => true,
            Arg::Shell(inner) => inner.has_secret(),
        })
    }

    /// The shell text sent to the remote host: every word single-quoted.
    pub fn to_shell(&self) -> String {
        self.render(|arg| match arg {
            Arg::Plain(s) => quote(s),
            Arg::Secret(s) => quote(s.expose()),
            Arg::Shell(inner) => quote(&inner.to_shell()),
        })
    }

    /// The command for humans: like `to_shell`, secrets shown as `[REDACTED]`.
    pub fn display(&self) -> String {
        self.render(|arg| match arg {
            Arg::Plain(s) => quote(s),
            Arg::Secret(_) => "[REDACTED]".to_string(),
            Arg::Shell(inner) => quote(&inner.display()),
        })
    }

    fn render(&self, word: impl Fn(&Arg) -> String) -> String {
        let mut out = quote(&self.program);
        for a in &self.args {
            out.push(' ');
            out.push_str(&word(a));
        }
        out
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

/// POSIX single-quoting; words made only of safe characters stay bare for readability. The one
/// quoting function: remote commands and the command lines printed for the user both use it.
pub fn quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c));
    if safe {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str(r"'\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the command's shell text through a real POSIX shell.
    fn run_in_sh(c: &Cmd) -> std::process::Output {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(c.to_shell())
            .output()
            .expect("sh runs")
    }

    #[test]
    fn quotes_every_awkward_word() {
        let c = Cmd::new("echo")
            .arg("a b")
            .arg("it's")
            .arg("")
            .arg("$HOME")
            .arg("plain-1.0");
        assert_eq!(c.to_shell(), r#"echo 'a b' 'it'\''s' '' '$HOME' plain-1.0"#);
    }

    #[test]
    fn secrets_are_sent_but_never_displayed() {
        let c = Cmd::new("login").arg("--password").secret("hunter 2");
        assert_eq!(c.to_shell(), "login --password 'hunter 2'");
        assert_eq!(c.display(), "login --password [REDACTED]");
        assert!(!format!("{c:?}").contains("hunter"));
        assert!(c.has_secret());
        assert!(!Cmd::new("ls").arg("x").has_secret());
    }

    #[test]
    fn nested_commands_quote_twice_and_redact() {
        let c = Cmd::new("docker-compose")
            .arg("up")
            .secret("s3cr3t")
            .in_dir("/home/u/my dir")
            .in_group("docker");
        let shell = c.to_shell();
        assert!(shell.starts_with("sg docker -c '"), "{shell}");
        assert!(c.has_secret());
        assert!(!c.display().contains("s3cr3t"));
        assert!(c.display().contains("[REDACTED]"));
    }

    #[test]
    fn shell_text_round_trips_through_sh() {
        // The quoted text, parsed by a real POSIX shell, gives back the exact argv.
        let words = ["a b", "it's", "", "$(touch /tmp/nope)", "x\ny", "\\"];
        let c = Cmd::new("printf").arg("%s|").args(words);
        let out = run_in_sh(&c);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "a b|it's||$(touch /tmp/nope)|x\ny|\\|"
        );
    }

    #[test]
    fn a_nested_command_is_one_word_that_a_shell_runs_back() {
        let inner = Cmd::new("printf").arg("%s|").arg("it's a b").in_dir("/");
        let c = Cmd::new("sh").arg("-c").arg(Arg::Shell(Box::new(inner)));
        let out = run_in_sh(&c);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "it's a b|");
    }

    #[test]
    fn in_group_runs_for_real_through_sg() {
        // The user's own primary group needs no password, so this runs anywhere.
        let group = std::process::Command::new("id")
            .arg("-gn")
            .output()
            .expect("id runs");
        let group = String::from_utf8_lossy(&group.stdout).trim().to_string();
        let c = Cmd::new("printf")
            .arg("%s|")
            .arg("it's")
            .arg("$x")
            .in_dir("/")
            .in_group(&group);
        let out = run_in_sh(&c);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "it's|$x|",
            "{}",
            c.to_shell()
        );
    }

    #[test]
    fn in_dir_runs_for_real() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().join("with space");
        std::fs::create_dir(&d).expect("mkdir");
        let c = Cmd::new("pwd").in_dir(&d.to_string_lossy());
        let out = run_in_sh(&c);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            d.to_string_lossy()
        );
    }
}
