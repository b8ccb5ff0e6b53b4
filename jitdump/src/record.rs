//! The jitdump file header and records as Rust values, and their encoding
//! (writer side). Fields are written in the host's byte order, which is what
//! the format prescribes: the reader tells the order from the magic.

use crate::format::{
    RecordId, CODE_LOAD_FIXED_SIZE, HEADER_SIZE, MAGIC, RECORD_PREFIX_SIZE,
    UNWINDING_INFO_FIXED_SIZE, VERSION,
};

/// The file header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub version: u32,
    /// Size of the header in bytes (40 for version 1; a reader skips more).
    pub total_size: u32,
    /// ELF `e_machine` of the code in the dump.
    pub elf_mach: u32,
    pub pad1: u32,
    pub pid: u32,
    pub timestamp: u64,
    pub flags: u64,
}

impl Header {
    /// A version-1 header with flags 0 (timestamps are `CLOCK_MONOTONIC`,
    /// not an architecture clock).
    pub fn new(elf_mach: u32, pid: u32, timestamp: u64) -> Header {
        Header {
            version: VERSION,
            total_size: HEADER_SIZE as u32,
            elf_mach,
            pad1: 0,
            pid,
            timestamp,
            flags: 0,
        }
    }

    /// The header's bytes, zero-padded to `total_size` if that is larger
    /// than the fields.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_SIZE);
        for word in [
            MAGIC,
            self.version,
            self.total_size,
            self.elf_mach,
            self.pad1,
            self.pid,
        ] {
            out.extend(word.to_ne_bytes());
        }
        out.extend(self.timestamp.to_ne_bytes());
        out.extend(self.flags.to_ne_bytes());
        out.resize(out.len().max(self.total_size as usize), 0);
        out
    }
}

/// A `JIT_CODE_LOAD` record: `code` now lives at `code_addr` and is named
/// `name`. The record's `code_size` is `code.len()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeLoad {
    pub pid: u32,
    pub tid: u32,
    pub vma: u64,
    pub code_addr: u64,
    pub code_index: u64,
    pub name: String,
    pub code: Vec<u8>,
}

/// A `JIT_CODE_UNWINDING_INFO` record: the `.eh_frame` and `.eh_frame_hdr`
/// of the code that the next `JIT_CODE_LOAD` record describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnwindingInfo {
    /// Bytes of unwinding data at the start of `data` (`.eh_frame`, then
    /// `.eh_frame_hdr`).
    pub unwinding_size: u64,
    /// Bytes of `.eh_frame_hdr`, the tail of the unwinding data.
    pub eh_frame_hdr_size: u64,
    /// Bytes perf maps after the code for it (0 if the data is not mapped).
    pub mapped_size: u64,
    /// Everything after the fixed fields: the unwinding data, then the
    /// padding that keeps the record 8-byte aligned.
    pub data: Vec<u8>,
}

impl UnwindingInfo {
    /// The `.eh_frame` part of the data (empty if the sizes are
    /// inconsistent, which [`crate::parse`] never lets through).
    pub fn eh_frame(&self) -> &[u8] {
        let end = self.unwinding_size.saturating_sub(self.eh_frame_hdr_size) as usize;
        self.data.get(..end).unwrap_or_default()
    }

    /// The `.eh_frame_hdr` part of the data.
    pub fn eh_frame_hdr(&self) -> &[u8] {
        let start = self.unwinding_size.saturating_sub(self.eh_frame_hdr_size) as usize;
        self.data
            .get(start..self.unwinding_size as usize)
            .unwrap_or_default()
    }

    /// `.eh_frame` followed by `.eh_frame_hdr`, without the padding.
    pub fn unwinding_data(&self) -> &[u8] {
        self.data
            .get(..self.unwinding_size as usize)
            .unwrap_or_default()
    }
}

/// One record, with where it starts in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Byte offset of the record's prefix in the file.
    pub offset: usize,
    pub timestamp: u64,
    pub body: RecordBody,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordBody {
    CodeLoad(CodeLoad),
    UnwindingInfo(UnwindingInfo),
    /// A record this crate does not decode (move, debug info, close, or an
    /// id from a later version): its id and the bytes after the prefix.
    Other {
        id: u32,
        payload: Vec<u8>,
    },
}

/// Why a record could not be encoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncodeError {
    #[error("a code-load name may not contain NUL (it ends the name in the file): {0:?}")]
    NulInName(String),
    #[error("a record of {0} bytes does not fit the format's 32-bit size field")]
    TooLarge(u64),
}

impl RecordBody {
    /// The record's id field.
    pub fn id(&self) -> u32 {
        match self {
            RecordBody::CodeLoad(_) => RecordId::CodeLoad as u32,
            RecordBody::UnwindingInfo(_) => RecordId::UnwindingInfo as u32,
            RecordBody::Other { id, .. } => *id,
        }
    }

    /// The whole record (prefix included) stamped with `timestamp`.
    pub fn encode(&self, timestamp: u64) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![0; RECORD_PREFIX_SIZE];
        match self {
            RecordBody::CodeLoad(load) => {
                if load.name.contains('\0') {
                    return Err(EncodeError::NulInName(load.name.clone()));
                }
                out.reserve(CODE_LOAD_FIXED_SIZE + load.name.len() + 1 + load.code.len());
                out.extend(load.pid.to_ne_bytes());
                out.extend(load.tid.to_ne_bytes());
                for field in [
                    load.vma,
                    load.code_addr,
                    load.code.len() as u64,
                    load.code_index,
                ] {
                    out.extend(field.to_ne_bytes());
                }
                out.extend(load.name.as_bytes());
                out.push(0);
                out.extend(&load.code);
            }
            RecordBody::UnwindingInfo(info) => {
                out.reserve(UNWINDING_INFO_FIXED_SIZE + info.data.len() + 7);
                for field in [
                    info.unwinding_size,
                    info.eh_frame_hdr_size,
                    info.mapped_size,
                ] {
                    out.extend(field.to_ne_bytes());
                }
                out.extend(&info.data);
                // perf reads records back to back; keeping each a multiple
                // of 8 keeps the next one's fields aligned in its buffer.
                out.resize(out.len().next_multiple_of(8), 0);
            }
            RecordBody::Other { payload, .. } => out.extend(payload),
        }
        let total =
            u32::try_from(out.len()).map_err(|_| EncodeError::TooLarge(out.len() as u64))?;
        out[0..4].copy_from_slice(&self.id().to_ne_bytes());
        out[4..8].copy_from_slice(&total.to_ne_bytes());
        out[8..16].copy_from_slice(&timestamp.to_ne_bytes());
        Ok(out)
    }
}

impl Record {
    /// The record's bytes as they appear in a file.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        self.body.encode(self.timestamp)
    }
}
