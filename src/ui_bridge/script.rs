//! Headless scripts: drive the kiosk through its window's own callback, wait for
//! screens, move the clock and take screenshots, one command per line.
//!
//! ```text
//! # comments and blank lines are ignored
//! tap start                      # the window's action(verb, argument) callback
//! tap language en-US
//! wait services                  # handle results until this screen shows (30 s guard)
//! wait certificate-preview 60    # ... with a custom guard in seconds
//! expect insert-card             # fail unless this screen shows now
//! card insert                    # the demo card (demo mode)
//! advance 61                     # move the kiosk clock by 61 s and tick
//! drain-outbox 60                # wait until queued ratings/submissions are delivered
//! network down                   # demo mode: cut the link to the central service (up: restore)
//! screenshot out/preview.png     # render the window to PNG
//! touch 540 1600                 # a finger at pixel (540, 1600): hit-tested like a real tap
//! mark identified                # print "mark identified" on stdout (a test waits for it)
//! hold 600                       # keep the kiosk on its screen, serving, this many seconds
//! wait-scans 2                   # handle results until the scanner has read 2 codes in all
//! key Down                       # a key: Tab, Shift+Tab, Up, Down, Left, Right, Enter,
//!                                # Space, Escape, Backspace, F1-F4, Plus, Minus, Star,
//!                                # Hash, a digit or a letter
//! spoken                         # print what voice guidance said since the last `spoken`
//! settle                         # handle results until the kiosk's background work is done
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::kiosk::ManualClock;
use crate::session::Screen;
use crate::ui_bridge::app::{App, AppError};
use crate::ui_bridge::headless::{HeadlessError, HeadlessWindow};

const DEFAULT_WAIT: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Tap {
        verb: String,
        argument: String,
    },
    Wait {
        screen: Screen,
        guard: Duration,
    },
    Expect(Screen),
    InsertDemoCard,
    Advance(Duration),
    Screenshot(PathBuf),
    /// Wait until the outbox has delivered everything queued so far.
    DrainOutbox(Duration),
    /// Cut or restore demo mode's link to the central service.
    Network(bool),
    /// A tap at a pixel of the window, through its own hit-testing.
    Touch {
        x: f32,
        y: f32,
    },
    /// Say on stdout that the script got here.
    Mark(String),
    /// Stay on the current screen, handling results, for this long (a test
    /// stops the kiosk in the meantime).
    Hold(Duration),
    /// Handle results until the code scanner has read this many codes in all.
    WaitScans(u64),
    /// Wait until the code scanner is open and reading.
    WaitScanner,
    /// A key on the keyboard or tactile keypad (its Slint key text).
    Key(String),
    /// Print, one `spoken: TEXT` line each, what voice guidance said since the
    /// last `spoken`.
    Spoken,
    /// Handle results until no work the kiosk started is under way (a rating
    /// being stored, a document being fetched).
    Settle,
}

#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("line {line}: {message}")]
    Parse { line: usize, message: String },
    #[error("line {line}: {source}")]
    Run { line: usize, source: AppError },
    #[error("line {line}: expected screen {wanted}, the kiosk shows {current}")]
    Expectation {
        line: usize,
        wanted: &'static str,
        current: &'static str,
    },
    #[error("line {line}: {source}")]
    Screenshot { line: usize, source: HeadlessError },
    #[error("line {line}: the outbox still holds {backlog} entries after {seconds} s")]
    OutboxNotDrained {
        line: usize,
        backlog: usize,
        seconds: u64,
    },
}

/// Parses a whole script; every line is checked before anything runs.
pub fn parse(text: &str) -> Result<Vec<(usize, Command)>, ScriptError> {
    let mut commands = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let words: Vec<&str> = content.split_whitespace().collect();
        let bad = |message: String| ScriptError::Parse { line, message };
        let screen = |name: Option<&&str>| -> Result<Screen, ScriptError> {
            let name = name.ok_or_else(|| bad("missing screen name".into()))?;
            Screen::from_name(name).ok_or_else(|| bad(format!("unknown screen {name:?}")))
        };
        let command = match words.as_slice() {
            ["tap", verb] => Command::Tap {
                verb: (*verb).to_owned(),
                argument: String::new(),
            },
            ["tap", verb, argument] => Command::Tap {
                verb: (*verb).to_owned(),
                argument: (*argument).to_owned(),
            },
            ["wait", rest @ ..] if rest.len() <= 2 => Command::Wait {
                screen: screen(rest.first())?,
                guard: match rest.get(1) {
                    Some(seconds) => Duration::from_secs(
                        seconds
                            .parse()
                            .map_err(|_| bad(format!("bad number of seconds {seconds:?}")))?,
                    ),
                    None => DEFAULT_WAIT,
                },
            },
            ["expect", name] => Command::Expect(screen(Some(name))?),
            ["card", "insert"] => Command::InsertDemoCard,
            ["advance", seconds] => Command::Advance(Duration::from_secs_f64(
                seconds
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| bad(format!("bad number of seconds {seconds:?}")))?,
            )),
            ["screenshot", path] => Command::Screenshot(PathBuf::from(path)),
            ["drain-outbox"] => Command::DrainOutbox(DEFAULT_WAIT),
            ["network", "down"] => Command::Network(false),
            ["network", "up"] => Command::Network(true),
            ["drain-outbox", seconds] => Command::DrainOutbox(Duration::from_secs(
                seconds
                    .parse()
                    .map_err(|_| bad(format!("bad number of seconds {seconds:?}")))?,
            )),
            ["touch", x, y] => {
                let coordinate = |text: &str| {
                    text.parse::<f32>()
                        .ok()
                        .filter(|v| v.is_finite() && *v >= 0.0)
                        .ok_or_else(|| bad(format!("bad coordinate {text:?}")))
                };
                Command::Touch {
                    x: coordinate(x)?,
                    y: coordinate(y)?,
                }
            }
            ["mark", word] => Command::Mark((*word).to_owned()),
            ["hold", seconds] => Command::Hold(Duration::from_secs(
                seconds
                    .parse()
                    .map_err(|_| bad(format!("bad number of seconds {seconds:?}")))?,
            )),
            ["key", name] => Command::Key(
                crate::ui_bridge::keys::key_text(name)
                    .ok_or_else(|| bad(format!("unknown key {name:?}")))?
                    .to_string(),
            ),
            ["spoken"] => Command::Spoken,
            ["settle"] => Command::Settle,
            ["wait-scanner"] => Command::WaitScanner,
            ["wait-scans", count] => Command::WaitScans(
                count
                    .parse()
                    .map_err(|_| bad(format!("bad number of codes {count:?}")))?,
            ),
            _ => return Err(bad(format!("unknown command {content:?}"))),
        };
        commands.push((line, command));
    }
    Ok(commands)
}

/// Runs a parsed script against a headless app whose clock is `clock`.
/// A link to the central service that a script can cut and restore
/// (`network down|up`); the demo's loopback relay is one.
pub trait LinkControl: Send + Sync {
    fn set_connected(&self, connected: bool);
}

pub fn run(
    app: &App,
    window: &HeadlessWindow,
    clock: &ManualClock,
    commands: &[(usize, Command)],
    base: &Path,
    link: Option<&dyn LinkControl>,
) -> Result<(), ScriptError> {
    for (line, command) in commands {
        let line = *line;
        match command {
            Command::Tap { verb, argument } => {
                app.drain();
                app.ui.invoke_action(verb.into(), argument.into());
            }
            Command::Wait { screen, guard } => app
                .wait_for(*screen, *guard)
                .map_err(|source| ScriptError::Run { line, source })?,
            Command::Expect(screen) => {
                app.drain();
                if app.screen() != *screen {
                    return Err(ScriptError::Expectation {
                        line,
                        wanted: screen.name(),
                        current: app.screen().name(),
                    });
                }
            }
            Command::InsertDemoCard => {
                app.drain();
                app.ui.invoke_action("on-screen-card".into(), "".into());
            }
            Command::Advance(by) => {
                clock.advance(by.as_millis() as u64);
                window.advance(*by);
                app.drain();
                app.tick();
            }
            Command::DrainOutbox(guard) => {
                // What the visit queued must be in the outbox before "empty" means
                // "delivered": a rating is queued off the UI thread.
                app.wait_settled(*guard)
                    .map_err(|source| ScriptError::Run { line, source })?;
                let (mut status, runtime) = {
                    let kiosk = app.kiosk();
                    (kiosk.backend().outbox.status(), kiosk.runtime().clone())
                };
                let drained = runtime.block_on(async {
                    tokio::time::timeout(*guard, status.wait_for(|s| s.backlog == 0))
                        .await
                        .is_ok_and(|r| r.is_ok())
                });
                if !drained {
                    return Err(ScriptError::OutboxNotDrained {
                        line,
                        backlog: status.borrow().backlog,
                        seconds: guard.as_secs(),
                    });
                }
            }
            Command::Network(up) => {
                app.drain();
                let kiosk = app.kiosk();
                let Some(link) = link else {
                    return Err(ScriptError::Parse {
                        line,
                        message: "`network` needs a link the script can cut (demo mode)".into(),
                    });
                };
                link.set_connected(*up);
                if *up {
                    kiosk.backend().outbox.nudge();
                }
            }
            Command::Touch { x, y } => {
                app.drain();
                window.touch(*x, *y);
                app.drain();
            }
            Command::Mark(word) => {
                app.drain();
                use std::io::Write as _;
                let mut out = std::io::stdout().lock();
                // A test reading the pipe may be gone; the script goes on regardless.
                let _ = writeln!(out, "mark {word}").and_then(|()| out.flush());
            }
            Command::Key(text) => {
                app.drain();
                window.key(text.as_str().into());
                app.drain();
            }
            Command::Settle => app
                .wait_settled(DEFAULT_WAIT)
                .map_err(|source| ScriptError::Run { line, source })?,
            Command::Spoken => {
                app.drain();
                use std::io::Write as _;
                let mut out = std::io::stdout().lock();
                for text in app.take_spoken() {
                    // A test reading the pipe may be gone; the script goes on regardless.
                    let _ = writeln!(out, "spoken: {}", text.replace('\n', " "));
                }
                let _ = out.flush();
            }
            Command::WaitScanner => app
                .wait_for_scanner(DEFAULT_WAIT)
                .map_err(|source| ScriptError::Run { line, source })?,
            Command::WaitScans(count) => app
                .wait_for_scans(*count, DEFAULT_WAIT)
                .map_err(|source| ScriptError::Run { line, source })?,
            Command::Hold(duration) => app
                .serve_for(*duration)
                .map_err(|source| ScriptError::Run { line, source })?,
            Command::Screenshot(path) => {
                app.drain();
                let path = base.join(path);
                if let Some(parent) = path.parent() {
                    // A missing folder surfaces as the save error below.
                    let _ = std::fs::create_dir_all(parent);
                }
                window
                    .save_png(&path)
                    .map_err(|source| ScriptError::Screenshot { line, source })?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        let script = "# a comment\n\ntap start\ntap language en-US # trailing\nwait services\nwait printing 90\nexpect rating\ncard insert\nadvance 1.5\nscreenshot a/b.png\ndrain-outbox\nmark here\nhold 5\ntouch 10 20.5\nwait-scans 2\nkey Down\nspoken\n";
        let commands = parse(script).expect("valid script");
        let kinds: Vec<_> = commands.iter().map(|(line, _)| *line).collect();
        assert_eq!(
            kinds,
            vec![3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]
        );
        assert_eq!(commands[12].1, Command::WaitScans(2));
        assert_eq!(commands[14].1, Command::Spoken);
        assert!(matches!(&commands[13].1, Command::Key(text) if !text.is_empty()));
        assert_eq!(commands[11].1, Command::Touch { x: 10.0, y: 20.5 });
        assert_eq!(commands[9].1, Command::Mark("here".into()));
        assert_eq!(commands[10].1, Command::Hold(Duration::from_secs(5)));
        assert_eq!(
            commands[1].1,
            Command::Tap {
                verb: "language".into(),
                argument: "en-US".into()
            }
        );
        assert_eq!(
            commands[3].1,
            Command::Wait {
                screen: Screen::Printing,
                guard: Duration::from_secs(90)
            }
        );
        assert_eq!(commands[6].1, Command::Advance(Duration::from_millis(1500)));
    }

    #[test]
    fn rejects_bad_lines_with_their_number() {
        for (script, line) in [
            ("tap start\nwait nowhere\n", 2),
            ("fly away\n", 1),
            ("advance -3\n", 1),
            ("advance NaN\n", 1),
            ("\n\nwait services soon\n", 3),
        ] {
            match parse(script) {
                Err(ScriptError::Parse { line: l, .. }) => assert_eq!(l, line, "{script:?}"),
                other => panic!("{script:?} parsed as {other:?}"),
            }
        }
    }
}
