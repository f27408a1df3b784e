//! A pseudo-terminal standing for a serial device (a code scanner in USB-CDC
//! mode): the code under test opens `path`, the test writes what the device
//! would send into the master side.

#![allow(dead_code)]

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;

pub struct Pty {
    master: File,
    // Held open so the line stays up while the code under test opens and
    // closes its side.
    _slave: OwnedFd,
    pub path: PathBuf,
}

impl Pty {
    pub fn open() -> Pty {
        let (mut master, mut slave) = (0, 0);
        // SAFETY: openpty writes two descriptors it opened into the integers
        // given; null name, termios and window size are allowed.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened by openpty and are ours.
        let (master, slave) = unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let path = std::fs::read_link(format!("/proc/self/fd/{}", slave.as_raw_fd()))
            .expect("the slave's path");
        Pty {
            master,
            _slave: slave,
            path,
        }
    }

    /// Sends one code the way a scanner in its factory setting does: then CR.
    pub fn scan(&mut self, code: &str) {
        self.send(code.as_bytes());
        self.send(b"\r");
    }

    /// Sends bytes as they are.
    pub fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("write");
        self.master.flush().expect("flush");
    }
}
