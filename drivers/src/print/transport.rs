//! Printer URIs and the byte links behind them: TCP (port 9100), the USB printer
//! class device, a serial port, and a directory sink for demo mode and tests.

use super::PrintError;
use super::decode::decode;
use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// Where the printer is, as written in configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrinterUri {
    /// `tcp://HOST:PORT` (port defaults to 9100).
    Tcp { host: String, port: u16 },
    /// `usb:/dev/usb/lp0`: the kernel's USB printer class device (on Windows, a
    /// device path such as `\\.\USB001` opened for raw writes).
    Usb { path: PathBuf },
    /// `serial:/dev/ttyUSB0?baud=115200` (baud defaults to 115200).
    Serial { path: String, baud: u32 },
    /// `file:DIR`: each job becomes `DIR/<job>.escpos` plus `DIR/<job>.png`, the
    /// paper decoded back from the bytes.
    File { dir: PathBuf },
}

impl FromStr for PrinterUri {
    type Err = PrintError;

    fn from_str(uri: &str) -> Result<Self, PrintError> {
        let invalid = |reason: &str| PrintError::InvalidUri {
            uri: uri.to_owned(),
            reason: reason.to_owned(),
        };
        let uri_trimmed = uri.trim();
        if let Some(rest) = uri_trimmed.strip_prefix("tcp://") {
            let rest = rest.trim_end_matches('/');
            let (host, port) = match rest.rsplit_once(':') {
                Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => (
                    host,
                    port.parse::<u16>()
                        .map_err(|_| invalid("the port is not a number from 1 to 65535"))?,
                ),
                _ => (rest, 9100),
            };
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if host.is_empty() || port == 0 {
                return Err(invalid("expected tcp://HOST:PORT"));
            }
            Ok(PrinterUri::Tcp {
                host: host.to_owned(),
                port,
            })
        } else if let Some(path) = uri_trimmed.strip_prefix("usb:") {
            if path.is_empty() {
                return Err(invalid("expected usb:/dev/usb/lp0"));
            }
            Ok(PrinterUri::Usb {
                path: PathBuf::from(path),
            })
        } else if let Some(rest) = uri_trimmed.strip_prefix("serial:") {
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            if path.is_empty() {
                return Err(invalid("expected serial:/dev/ttyUSB0?baud=115200"));
            }
            let mut baud = 115_200;
            for pair in query.split('&').filter(|pair| !pair.is_empty()) {
                match pair.split_once('=') {
                    Some(("baud", value)) => {
                        baud = value.parse().map_err(|_| invalid("baud is not a number"))?;
                    }
                    _ => return Err(invalid("the only serial option is baud=N")),
                }
            }
            if !(1200..=4_000_000).contains(&baud) {
                return Err(invalid("baud must be between 1200 and 4000000"));
            }
            Ok(PrinterUri::Serial {
                path: path.to_owned(),
                baud,
            })
        } else if let Some(dir) = uri_trimmed.strip_prefix("file:") {
            let dir = dir.strip_prefix("//").unwrap_or(dir);
            if dir.is_empty() {
                return Err(invalid("expected file:DIR"));
            }
            Ok(PrinterUri::File {
                dir: PathBuf::from(dir),
            })
        } else {
            Err(invalid(
                "use tcp://HOST:9100, usb:/dev/usb/lp0, serial:/dev/ttyUSB0?baud=115200 or file:DIR",
            ))
        }
    }
}

impl fmt::Display for PrinterUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrinterUri::Tcp { host, port } if host.contains(':') => {
                write!(f, "tcp://[{host}]:{port}")
            }
            PrinterUri::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            PrinterUri::Usb { path } => write!(f, "usb:{}", path.display()),
            PrinterUri::Serial { path, baud } => write!(f, "serial:{path}?baud={baud}"),
            PrinterUri::File { dir } => write!(f, "file:{}", dir.display()),
        }
    }
}

/// A two-way byte link to one printer, open for one job or one status check.
pub(crate) trait Link {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), PrintError>;
    /// One byte, or `None` when nothing came within `timeout`.
    fn read_byte(&mut self, timeout: Duration) -> Result<Option<u8>, PrintError>;
    /// Throws away bytes already received (late replies, automatic status).
    fn discard_input(&mut self);
    /// False for sinks that cannot answer status requests.
    fn answers_status(&self) -> bool {
        true
    }
    /// Completes the job (the file sink writes its files here).
    fn finish(&mut self, _job_name: &str) -> Result<(), PrintError> {
        Ok(())
    }
}

pub(crate) fn io_error(error: std::io::Error) -> PrintError {
    match error.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
            PrintError::Timeout(error.to_string())
        }
        std::io::ErrorKind::ConnectionRefused
        | std::io::ErrorKind::ConnectionReset
        | std::io::ErrorKind::ConnectionAborted
        | std::io::ErrorKind::BrokenPipe
        | std::io::ErrorKind::NotConnected
        | std::io::ErrorKind::NotFound
        | std::io::ErrorKind::PermissionDenied
        | std::io::ErrorKind::UnexpectedEof => PrintError::Offline(error.to_string()),
        _ => PrintError::Io(error.to_string()),
    }
}

/// Opens the link for `uri`.
pub(crate) fn open(
    uri: &PrinterUri,
    timeout: Duration,
    paper_width: u32,
) -> Result<Box<dyn Link>, PrintError> {
    match uri {
        PrinterUri::Tcp { host, port } => Ok(Box::new(TcpLink::connect(host, *port, timeout)?)),
        #[cfg(unix)]
        PrinterUri::Usb { path } => Ok(Box::new(DeviceLink::open(path, timeout)?)),
        #[cfg(not(unix))]
        PrinterUri::Usb { path } => DeviceLink::open(path, timeout),
        PrinterUri::Serial { path, baud } => Ok(Box::new(SerialLink::open(path, *baud, timeout)?)),
        PrinterUri::File { dir } => Ok(Box::new(FileSink::open(dir, paper_width)?)),
    }
}

struct TcpLink {
    stream: TcpStream,
}

impl TcpLink {
    fn connect(host: &str, port: u16, timeout: Duration) -> Result<Self, PrintError> {
        let addresses = (host, port)
            .to_socket_addrs()
            .map_err(|error| PrintError::Offline(error.to_string()))?;
        let mut last = PrintError::Offline(format!("{host} did not resolve"));
        for address in addresses {
            match TcpStream::connect_timeout(&address, timeout) {
                Ok(stream) => {
                    stream.set_write_timeout(Some(timeout)).map_err(io_error)?;
                    stream.set_nodelay(true).map_err(io_error)?;
                    return Ok(Self { stream });
                }
                Err(error) => last = io_error(error),
            }
        }
        Err(last)
    }
}

impl Link for TcpLink {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), PrintError> {
        self.stream.write_all(bytes).map_err(io_error)
    }

    fn read_byte(&mut self, timeout: Duration) -> Result<Option<u8>, PrintError> {
        self.stream
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
            .map_err(io_error)?;
        let mut byte = [0u8];
        match self.stream.read(&mut byte) {
            Ok(0) => Err(PrintError::Offline(
                "the printer closed the connection".to_owned(),
            )),
            Ok(_) => Ok(Some(byte[0])),
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(error) => Err(io_error(error)),
        }
    }

    fn discard_input(&mut self) {
        if self.stream.set_nonblocking(true).is_ok() {
            let mut buffer = [0u8; 256];
            while matches!(self.stream.read(&mut buffer), Ok(n) if n > 0) {}
            let _ = self.stream.set_nonblocking(false);
        }
    }
}

/// A character device (the USB printer class `/dev/usb/lp*`), opened
/// non-blocking and driven with `poll(2)` so every read and write has a deadline
/// and nothing lingers on the device after the link is dropped.
#[cfg(unix)]
struct DeviceLink {
    file: std::fs::File,
    timeout: Duration,
}

#[cfg(unix)]
impl DeviceLink {
    fn open(path: &std::path::Path, timeout: Duration) -> Result<Self, PrintError> {
        use std::os::unix::fs::OpenOptionsExt;
        let flags = rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOCTTY;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(flags.bits() as i32)
            .open(path)
            .map_err(|error| PrintError::Offline(format!("{}: {error}", path.display())))?;
        Ok(Self { file, timeout })
    }

    /// Waits until the device is ready for `flags`; false on timeout.
    fn wait(&self, flags: rustix::event::PollFlags, timeout: Duration) -> Result<bool, PrintError> {
        let deadline = rustix::event::Timespec {
            tv_sec: timeout.as_secs().min(i64::MAX as u64) as i64,
            tv_nsec: i64::from(timeout.subsec_nanos()) as _,
        };
        let mut fds = [rustix::event::PollFd::new(&self.file, flags)];
        loop {
            match rustix::event::poll(&mut fds, Some(&deadline)) {
                Ok(ready) => return Ok(ready > 0),
                Err(rustix::io::Errno::INTR) => continue,
                Err(error) => return Err(io_error(error.into())),
            }
        }
    }
}

#[cfg(unix)]
impl Link for DeviceLink {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), PrintError> {
        let mut written = 0;
        while written < bytes.len() {
            match self.file.write(&bytes[written..]) {
                Ok(0) => {
                    return Err(PrintError::Offline(
                        "the printer device accepts no data".to_owned(),
                    ));
                }
                Ok(n) => written += n,
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                    if !self.wait(rustix::event::PollFlags::OUT, self.timeout)? {
                        return Err(PrintError::Timeout(format!(
                            "the printer took no data for {:?}",
                            self.timeout
                        )));
                    }
                }
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => return Err(io_error(error)),
            }
        }
        Ok(())
    }

    fn read_byte(&mut self, timeout: Duration) -> Result<Option<u8>, PrintError> {
        if !self.wait(rustix::event::PollFlags::IN, timeout)? {
            return Ok(None);
        }
        let mut byte = [0u8];
        match self.file.read(&mut byte) {
            Ok(1) => Ok(Some(byte[0])),
            // Write-only printers and closed peers read as end of file: no reply.
            Ok(_) => Ok(None),
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                ) =>
            {
                Ok(None)
            }
            Err(error) => Err(io_error(error)),
        }
    }

    fn discard_input(&mut self) {
        let mut buffer = [0u8; 256];
        while matches!(self.file.read(&mut buffer), Ok(n) if n > 0) {}
    }
}

/// Windows needs the raw print spooler for USB printers, which is not written yet.
#[cfg(not(unix))]
struct DeviceLink;

#[cfg(not(unix))]
impl DeviceLink {
    fn open(path: &std::path::Path, _timeout: Duration) -> Result<Box<dyn Link>, PrintError> {
        Err(PrintError::Offline(format!(
            "{}: USB printing through the Windows spooler is not supported yet; use tcp:// or serial:",
            path.display()
        )))
    }
}

struct SerialLink {
    port: Box<dyn serialport::SerialPort>,
}

impl SerialLink {
    fn open(path: &str, baud: u32, timeout: Duration) -> Result<Self, PrintError> {
        let port = serialport::new(path, baud)
            .timeout(timeout)
            .open()
            .map_err(|error| PrintError::Offline(format!("{path}: {error}")))?;
        Ok(Self { port })
    }
}

impl Link for SerialLink {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), PrintError> {
        self.port
            .write_all(bytes)
            .and_then(|()| self.port.flush())
            .map_err(io_error)
    }

    fn read_byte(&mut self, timeout: Duration) -> Result<Option<u8>, PrintError> {
        let previous = self.port.timeout();
        self.port
            .set_timeout(timeout)
            .map_err(|error| PrintError::Io(error.to_string()))?;
        let mut byte = [0u8];
        let result = match self.port.read(&mut byte) {
            Ok(0) => Ok(None),
            Ok(_) => Ok(Some(byte[0])),
            Err(error) if error.kind() == std::io::ErrorKind::TimedOut => Ok(None),
            Err(error) => Err(io_error(error)),
        };
        let _ = self.port.set_timeout(previous);
        result
    }

    fn discard_input(&mut self) {
        let _ = self.port.clear(serialport::ClearBuffer::Input);
    }
}

/// Demo and test sink: keeps the job's bytes and writes them out at the end.
struct FileSink {
    dir: PathBuf,
    bytes: Vec<u8>,
    paper_width: u32,
}

impl FileSink {
    fn open(dir: &std::path::Path, paper_width: u32) -> Result<Self, PrintError> {
        std::fs::create_dir_all(dir)
            .map_err(|error| PrintError::Offline(format!("{}: {error}", dir.display())))?;
        Ok(Self {
            dir: dir.to_owned(),
            bytes: Vec::new(),
            paper_width,
        })
    }
}

/// Job ids become file names: keep them to a safe alphabet.
pub(crate) fn file_stem(job_name: &str) -> String {
    let stem: String = job_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if stem.is_empty() {
        "job".to_owned()
    } else {
        stem
    }
}

impl Link for FileSink {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), PrintError> {
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    fn read_byte(&mut self, _timeout: Duration) -> Result<Option<u8>, PrintError> {
        Ok(None)
    }

    fn discard_input(&mut self) {}

    fn answers_status(&self) -> bool {
        false
    }

    fn finish(&mut self, job_name: &str) -> Result<(), PrintError> {
        let stem = file_stem(job_name);
        let escpos_path = self.dir.join(format!("{stem}.escpos"));
        let png_path = self.dir.join(format!("{stem}.png"));
        // Write to a temporary name and rename, so a crash never leaves half a job.
        let temporary = self.dir.join(format!(".{stem}.escpos.partial"));
        std::fs::write(&temporary, &self.bytes)
            .and_then(|()| std::fs::rename(&temporary, &escpos_path))
            .map_err(io_error)?;
        let decoded = decode(&self.bytes, self.paper_width);
        decoded
            .paper_image()
            .save(&png_path)
            .map_err(|error| PrintError::Io(error.to_string()))?;
        self.bytes.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_and_print_back() {
        for (text, expected) in [
            (
                "tcp://192.168.1.50:9100",
                PrinterUri::Tcp {
                    host: "192.168.1.50".into(),
                    port: 9100,
                },
            ),
            (
                "tcp://printer.local",
                PrinterUri::Tcp {
                    host: "printer.local".into(),
                    port: 9100,
                },
            ),
            (
                "tcp://[::1]:9101",
                PrinterUri::Tcp {
                    host: "::1".into(),
                    port: 9101,
                },
            ),
            (
                "usb:/dev/usb/lp0",
                PrinterUri::Usb {
                    path: "/dev/usb/lp0".into(),
                },
            ),
            (
                "serial:/dev/ttyUSB0?baud=9600",
                PrinterUri::Serial {
                    path: "/dev/ttyUSB0".into(),
                    baud: 9600,
                },
            ),
            (
                "serial:/dev/ttyS1",
                PrinterUri::Serial {
                    path: "/dev/ttyS1".into(),
                    baud: 115_200,
                },
            ),
            (
                "file:/var/spool/estation",
                PrinterUri::File {
                    dir: "/var/spool/estation".into(),
                },
            ),
        ] {
            let parsed: PrinterUri = text.parse().unwrap();
            assert_eq!(parsed, expected, "{text}");
            assert_eq!(parsed.to_string().parse::<PrinterUri>().unwrap(), expected);
        }
    }

    #[test]
    fn bad_uris_say_why() {
        for text in [
            "",
            "lpt1",
            "tcp://",
            "tcp://host:99999",
            "serial:/dev/ttyS0?baud=fast",
            "serial:/dev/x?parity=odd",
            "usb:",
        ] {
            let error = text.parse::<PrinterUri>().unwrap_err();
            assert!(
                matches!(error, PrintError::InvalidUri { .. }),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn job_names_cannot_escape_the_directory() {
        assert_eq!(file_stem("../../etc/passwd"), "______etc_passwd");
        assert_eq!(file_stem(""), "job");
    }
}
