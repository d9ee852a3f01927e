//! What a check says: [`Status`], [`Outcome`], and the conversion from a
//! check's return value.

use std::any::Any;
use std::fmt::Display;

use serde::Serialize;

/// The health of a component (or of the whole service).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// Working.
    Up,
    /// Working with reduced service.
    Degraded,
    /// Not working.
    Down,
    /// Not checked yet.
    #[default]
    Unknown,
}

impl Status {
    /// `UP`, `DEGRADED`, `DOWN` or `UNKNOWN`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Up => "UP",
            Status::Degraded => "DEGRADED",
            Status::Down => "DOWN",
            Status::Unknown => "UNKNOWN",
        }
    }
}

impl Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of one run of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The component works.
    Up,
    /// The component works with reduced service; the text says how.
    Degraded(String),
    /// The component does not work; the text says why.
    Down(String),
}

impl Outcome {
    /// The status this outcome reports.
    pub fn status(&self) -> Status {
        match self {
            Outcome::Up => Status::Up,
            Outcome::Degraded(_) => Status::Degraded,
            Outcome::Down(_) => Status::Down,
        }
    }

    /// The message of a degraded or down outcome.
    pub fn message(&self) -> Option<&str> {
        match self {
            Outcome::Up => None,
            Outcome::Degraded(m) | Outcome::Down(m) => Some(m),
        }
    }
}

/// What a check function may return: `Result<T, E>` with a displayable
/// error (`Ok` is UP, `Err` is DOWN with the error's text), or an
/// [`Outcome`] to report DEGRADED too.
pub trait IntoOutcome {
    /// The outcome this value stands for.
    fn into_outcome(self) -> Outcome;
}

impl<T, E: Display> IntoOutcome for Result<T, E> {
    fn into_outcome(self) -> Outcome {
        match self {
            Ok(_) => Outcome::Up,
            Err(e) => Outcome::Down(e.to_string()),
        }
    }
}

impl IntoOutcome for Outcome {
    fn into_outcome(self) -> Outcome {
        self
    }
}

/// The DOWN outcome of a check that panicked, with the panic's message.
pub(crate) fn panicked(payload: &(dyn Any + Send)) -> Outcome {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| String::from("a non-text panic payload"));
    Outcome::Down(format!("the check panicked: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_and_outcomes_convert() {
        assert_eq!(Ok::<u8, String>(1).into_outcome(), Outcome::Up);
        assert_eq!(
            Err::<(), _>("refused").into_outcome(),
            Outcome::Down("refused".into())
        );
        assert_eq!(
            Outcome::Degraded("slow".into()).into_outcome().status(),
            Status::Degraded
        );
    }

    #[test]
    fn panic_messages_are_kept() {
        let caught = std::panic::catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
        assert_eq!(
            panicked(caught.as_ref()),
            Outcome::Down("the check panicked: boom 7".into())
        );
        assert_eq!(
            serde_json::to_string(&Status::Degraded).unwrap(),
            "\"DEGRADED\""
        );
    }
}
