//! CARTO version numbers: carto-selfhosted tags and customer package versions.
//!
//! Owns parsing and ordering of `YYYY.M.D`, `YYYY.M.D-rc.N` and `YYYY.M.D-patchN`, and the small
//! table saying which customer package versions (`MIN_VERSION`) each supported tag accepts.
//! It reads no files; the table is written here from the carto-selfhosted facts.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Year, month, day.
type Date = (u32, u32, u32);

/// What follows the date: release candidates sort before the release, patches after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Suffix {
    Rc(u32),
    Release,
    Patch(u32),
}

/// A CARTO version such as `2025.11.11`, `2026.4.24-rc.1` or `2025.11.11-patch1`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Version {
    date: Date,
    suffix: Suffix,
}

/// The text was not a CARTO version; the caller names the input (flag or key) in its error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotAVersion;

impl fmt::Display for NotAVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a version of the form YYYY.M.D, YYYY.M.D-rc.N or YYYY.M.D-patchN")
    }
}

impl Version {
    /// Parses `YYYY.M.D` with an optional `-rc.N` or `-patchN` suffix.
    pub fn parse(text: &str) -> Result<Version, NotAVersion> {
        let (date, suffix) = match text.split_once('-') {
            Some((date, rest)) => (date, Some(rest)),
            None => (text, None),
        };
        let suffix = match suffix {
            None => Suffix::Release,
            Some(s) => {
                if let Some(n) = s.strip_prefix("rc.") {
                    Suffix::Rc(number(n)?)
                } else if let Some(n) = s.strip_prefix("patch") {
                    Suffix::Patch(number(n)?)
                } else {
                    return Err(NotAVersion);
                }
            }
        };
        let mut parts = date.split('.');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(NotAVersion);
        };
        let (y, m, d) = (number(y)?, number(m)?, number(d)?);
        if !(2000..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return Err(NotAVersion);
        }
        Ok(Version {
            date: (y, m, d),
            suffix,
        })
    }

    /// A release candidate (`-rc.N`): never picked as the default release.
    pub fn is_release_candidate(&self) -> bool {
        matches!(self.suffix, Suffix::Rc(_))
    }

    /// The same date without rc or patch suffix.
    pub fn release(&self) -> Version {
        Version {
            date: self.date,
            suffix: Suffix::Release,
        }
    }
}

fn number(s: &str) -> Result<u32, NotAVersion> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NotAVersion);
    }
    s.parse().map_err(|_| NotAVersion)
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.date, self.suffix).cmp(&(other.date, other.suffix))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.date;
        write!(f, "{y}.{m}.{d}")?;
        match self.suffix {
            Suffix::Rc(n) => write!(f, "-rc.{n}"),
            Suffix::Release => Ok(()),
            Suffix::Patch(n) => write!(f, "-patch{n}"),
        }
    }
}

impl TryFrom<String> for Version {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Version::parse(&s).map_err(|e| format!("{s:?}: {e}"))
    }
}

impl From<Version> for String {
    fn from(v: Version) -> String {
        v.to_string()
    }
}

/// Supported tag ranges by release date (inclusive; `None` = open-ended) and the oldest
/// customer package each accepts. Release candidates and patches of a date belong to it.
const TAGS: &[(Date, Option<Date>, Date)] = &[
    ((2025, 9, 11), Some((2026, 3, 10)), (2025, 9, 1)),
    ((2026, 4, 24), None, (2026, 4, 1)),
];

/// Which tags are supported, in words, for error messages.
pub const SUPPORTED_TAGS: &str =
    "2025.9.11 through 2026.3.10, and 2026.4.24 or later (with their -patchN releases)";

/// The oldest customer package version the carto-selfhosted `tag` accepts (its `MIN_VERSION`),
/// or `None` if the tag is outside the supported table.
pub fn min_version(tag: &Version) -> Option<Version> {
    TAGS.iter()
        .find(|(from, to, _)| tag.date >= *from && to.is_none_or(|to| tag.date <= to))
        .map(|(_, _, min)| Version {
            date: *min,
            suffix: Suffix::Release,
        })
}

/// The oldest customer package version any supported tag accepts: what a package is held to
/// before the release is known (the default release is resolved on the VM, and its own
/// install.sh checks its `MIN_VERSION`).
pub fn oldest_min_version() -> Version {
    let date = TAGS
        .iter()
        .map(|(_, _, min)| *min)
        .min()
        .unwrap_or((2025, 9, 1));
    Version {
        date,
        suffix: Suffix::Release,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_and_prints_each_form() {
        for s in [
            "2025.9.1",
            "2025.11.11",
            "2026.4.24-rc.1",
            "2025.11.11-patch1",
        ] {
            assert_eq!(v(s).to_string(), s);
        }
        assert_eq!(v("2025.09.01").to_string(), "2025.9.1");
        assert_eq!(v("2025.11.11-patch2").release(), v("2025.11.11"));
        let json = serde_json::to_string(&v("2026.4.24-rc.2")).unwrap();
        assert_eq!(json, "\"2026.4.24-rc.2\"");
        assert_eq!(
            serde_json::from_str::<Version>(&json).unwrap(),
            v("2026.4.24-rc.2")
        );
    }

    #[test]
    fn rejects_non_versions() {
        for bad in [
            "",
            "2025",
            "2025.9",
            "2025.9.1.1",
            "v2025.9.1",
            "2025.13.1",
            "2025.0.1",
            "2025.9.32",
            "2025.9.1-",
            "2025.9.1-rc",
            "2025.9.1-rc.",
            "2025.9.1-beta1",
            "2025.9.1-patch",
            "2025.9.1-patch+1",
            "25.9.1",
            "2025.9.x",
            " 2025.9.1",
        ] {
            assert_eq!(Version::parse(bad), Err(NotAVersion), "{bad:?} accepted");
        }
    }

    #[test]
    fn orders_rc_before_release_before_patch() {
        let sorted = [
            "2025.9.1",
            "2025.9.11-rc.1",
            "2025.9.11-rc.2",
            "2025.9.11",
            "2025.9.11-patch1",
            "2025.9.11-patch2",
            "2025.10.2",
            "2025.11.11",
            "2026.1.1",
        ];
        for pair in sorted.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} !< {}", pair[0], pair[1]);
        }
        assert!(v("2025.10.1") > v("2025.9.30"), "numeric, not text, order");
    }

    #[test]
    fn tag_table_edges() {
        let min = |t: &str| min_version(&v(t)).map(|m| m.to_string());
        let old = Some("2025.9.1".to_string());
        let new = Some("2026.4.1".to_string());
        assert_eq!(min("2025.9.10"), None);
        assert_eq!(min("2025.9.11"), old);
        assert_eq!(min("2025.11.11"), old);
        assert_eq!(min("2025.11.11-patch1"), old);
        assert_eq!(min("2026.3.10"), old);
        assert_eq!(min("2026.3.10-patch1"), old);
        assert_eq!(min("2026.3.11"), None);
        assert_eq!(min("2026.4.23"), None);
        assert_eq!(min("2026.4.24-rc.1"), new);
        assert_eq!(min("2026.4.24"), new);
        assert_eq!(min("2026.7.16"), new);
        assert_eq!(min("2030.1.1"), new);
    }
}
