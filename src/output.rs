//! Writes a finished document whole or not at all: stdout in one write, or a file through a
//! temporary file in the same directory that is renamed over the target, so a reader never
//! sees half a document and a failure leaves the old file as it was.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use crate::error::Error;

/// Writes `text` to `path` atomically, keeping an existing file's permissions (0644 for a new
/// file: rules files are not secret, and the temporary file would otherwise be 0600).
pub fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    let err = |source: io::Error| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".cilium-ipt-")
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(text.as_bytes()).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    let permissions = match fs::metadata(path) {
        Ok(meta) => meta.permissions(),
        Err(_) => {
            use std::os::unix::fs::PermissionsExt;
            fs::Permissions::from_mode(0o644)
        }
    };
    fs::set_permissions(tmp.path(), permissions).map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// Writes `text` to stdout in one go. A closed pipe (`| head`) is not an error worth a
/// message: the reader has what it wanted.
pub fn write_stdout(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
