//! The one error type of the tools: a one-line message, printed as
//! `<tool>: error: <message>`, optionally followed by the usage synopsis.

use std::fmt;

/// A user-facing error: one line, exit status 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    /// Print the usage synopsis after the message (for command-line mistakes).
    pub show_usage: bool,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            show_usage: false,
        }
    }

    /// A command-line mistake: the usage synopsis follows the message.
    pub fn usage(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            show_usage: true,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// `std::io::Error`'s message without the trailing " (os error N)".
pub fn io_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s,
    }
}
