//! The reader: a dump's bytes to [`Dump`], every size checked against the
//! bytes that are really there, so a truncated or corrupted file gives a
//! [`JitdumpError`] naming the byte offset and the problem, never a panic.

use crate::format::{
    RecordId, CODE_LOAD_FIXED_SIZE, HEADER_SIZE, MAGIC, RECORD_PREFIX_SIZE,
    UNWINDING_INFO_FIXED_SIZE, VERSION,
};
use crate::record::{CodeLoad, Header, Record, RecordBody, UnwindingInfo};

/// A whole dump: its header and every record, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dump {
    pub header: Header,
    pub records: Vec<Record>,
}

impl Dump {
    /// The code-load records, in file order.
    pub fn code_loads(&self) -> impl Iterator<Item = &CodeLoad> {
        self.records.iter().filter_map(|r| match &r.body {
            RecordBody::CodeLoad(load) => Some(load),
            _ => None,
        })
    }
}

/// What is wrong with a dump, and at which byte.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("jitdump byte {offset}: {problem}")]
pub struct JitdumpError {
    /// Offset of the header, record or field that is wrong.
    pub offset: usize,
    pub problem: Problem,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("the {what} needs {needed} bytes but only {available} remain (the dump is truncated)")]
    Truncated {
        what: &'static str,
        needed: u64,
        available: usize,
    },
    #[error("magic {0:#010x} is not 0x4a695444 (\"JiTD\"): not a jitdump file")]
    BadMagic(u32),
    #[error("magic 0x4454694a: written on a host of the other byte order, which this reader does not read")]
    ForeignByteOrder,
    #[error("header version {0} is not 1")]
    UnsupportedVersion(u32),
    #[error("header total_size {0} is smaller than the 40 bytes of its own fields")]
    HeaderTooSmall(u32),
    #[error("{kind} record total_size {size} is smaller than its fixed part of {min} bytes")]
    RecordTooSmall {
        kind: &'static str,
        size: u32,
        min: usize,
    },
    #[error(
        "code-load code_size {code_size} is larger than the {room} bytes after the fixed fields"
    )]
    CodeTooLarge { code_size: u64, room: usize },
    #[error("code-load name has no NUL terminator before the code bytes")]
    UnterminatedName,
    #[error(
        "unwinding_size {unwinding_size} is larger than the {room} bytes of data in the record"
    )]
    UnwindingTooLarge { unwinding_size: u64, room: usize },
    #[error(
        "eh_frame_hdr_size {eh_frame_hdr_size} is larger than unwinding_size {unwinding_size}"
    )]
    HeaderLargerThanUnwinding {
        eh_frame_hdr_size: u64,
        unwinding_size: u64,
    },
}

fn error(offset: usize, problem: Problem) -> JitdumpError {
    JitdumpError { offset, problem }
}

/// Native-endian fields of a slice whose length the caller has checked.
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut field = [0; 4];
    field.copy_from_slice(&bytes[at..at + 4]);
    u32::from_ne_bytes(field)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut field = [0; 8];
    field.copy_from_slice(&bytes[at..at + 8]);
    u64::from_ne_bytes(field)
}

/// Parses a whole dump: any problem anywhere is an error.
pub fn parse(bytes: &[u8]) -> Result<Dump, JitdumpError> {
    let header = parse_header(bytes)?;
    let records = Records::after_header(bytes, &header).collect::<Result<_, _>>()?;
    Ok(Dump { header, records })
}

/// Parses the header and the records up to the first problem, which is
/// returned beside them: what a dump still being written (or cut short by a
/// crash) holds for sure. A bad header is still an error.
pub fn parse_complete_records(bytes: &[u8]) -> Result<(Dump, Option<JitdumpError>), JitdumpError> {
    let header = parse_header(bytes)?;
    let mut records = Vec::new();
    let mut problem = None;
    for record in Records::after_header(bytes, &header) {
        match record {
            Ok(record) => records.push(record),
            Err(e) => {
                problem = Some(e);
                break;
            }
        }
    }
    Ok((Dump { header, records }, problem))
}

/// Parses the file header.
pub fn parse_header(bytes: &[u8]) -> Result<Header, JitdumpError> {
    if bytes.len() < 4 {
        return Err(truncated(0, "header magic", 4, bytes.len()));
    }
    match u32_at(bytes, 0) {
        MAGIC => {}
        m if m == MAGIC.swap_bytes() => return Err(error(0, Problem::ForeignByteOrder)),
        m => return Err(error(0, Problem::BadMagic(m))),
    }
    if bytes.len() < HEADER_SIZE {
        return Err(truncated(0, "header", HEADER_SIZE as u64, bytes.len()));
    }
    let header = Header {
        version: u32_at(bytes, 4),
        total_size: u32_at(bytes, 8),
        elf_mach: u32_at(bytes, 12),
        pad1: u32_at(bytes, 16),
        pid: u32_at(bytes, 20),
        timestamp: u64_at(bytes, 24),
        flags: u64_at(bytes, 32),
    };
    if header.version != VERSION {
        return Err(error(4, Problem::UnsupportedVersion(header.version)));
    }
    if (header.total_size as usize) < HEADER_SIZE {
        return Err(error(8, Problem::HeaderTooSmall(header.total_size)));
    }
    if bytes.len() < header.total_size as usize {
        let needed = header.total_size.into();
        return Err(truncated(0, "header", needed, bytes.len()));
    }
    Ok(header)
}

fn truncated(offset: usize, what: &'static str, needed: u64, available: usize) -> JitdumpError {
    error(
        offset,
        Problem::Truncated {
            what,
            needed,
            available,
        },
    )
}

/// The records of a dump, one `Result` each; after an error it ends.
struct Records<'a> {
    bytes: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Records<'a> {
    fn after_header(bytes: &'a [u8], header: &Header) -> Records<'a> {
        Records {
            bytes,
            pos: header.total_size as usize,
            failed: false,
        }
    }

    fn next_record(&mut self) -> Result<Record, JitdumpError> {
        let (at, rest) = (self.pos, &self.bytes[self.pos..]);
        if rest.len() < RECORD_PREFIX_SIZE {
            return Err(truncated(
                at,
                "record prefix",
                RECORD_PREFIX_SIZE as u64,
                rest.len(),
            ));
        }
        let (id, size, timestamp) = (u32_at(rest, 0), u32_at(rest, 4), u64_at(rest, 8));
        let kind = record_kind(id);
        if (size as usize) < RECORD_PREFIX_SIZE {
            let min = RECORD_PREFIX_SIZE;
            return Err(error(at + 4, Problem::RecordTooSmall { kind, size, min }));
        }
        if rest.len() < size as usize {
            return Err(truncated(at, kind, size.into(), rest.len()));
        }
        let record = &rest[..size as usize];
        let body = if id == RecordId::CodeLoad as u32 {
            RecordBody::CodeLoad(code_load(record, at)?)
        } else if id == RecordId::UnwindingInfo as u32 {
            RecordBody::UnwindingInfo(unwinding_info(record, at)?)
        } else {
            RecordBody::Other {
                id,
                payload: record[RECORD_PREFIX_SIZE..].to_vec(),
            }
        };
        self.pos += size as usize;
        Ok(Record {
            offset: at,
            timestamp,
            body,
        })
    }
}

impl Iterator for Records<'_> {
    type Item = Result<Record, JitdumpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.bytes.len() {
            return None;
        }
        let record = self.next_record();
        self.failed = record.is_err();
        Some(record)
    }
}

fn record_kind(id: u32) -> &'static str {
    match id {
        0 => "JIT_CODE_LOAD",
        1 => "JIT_CODE_MOVE",
        2 => "JIT_CODE_DEBUG_INFO",
        3 => "JIT_CODE_CLOSE",
        4 => "JIT_CODE_UNWINDING_INFO",
        _ => "unknown",
    }
}

fn require_fixed(record: &[u8], at: usize, min: usize) -> Result<(), JitdumpError> {
    if record.len() < min {
        let (kind, size) = (record_kind(u32_at(record, 0)), record.len() as u32);
        return Err(error(at + 4, Problem::RecordTooSmall { kind, size, min }));
    }
    Ok(())
}

/// `record` is the whole record (prefix included), starting at file offset `at`.
fn code_load(record: &[u8], at: usize) -> Result<CodeLoad, JitdumpError> {
    require_fixed(record, at, CODE_LOAD_FIXED_SIZE)?;
    let code_size = u64_at(record, 40);
    let room = record.len() - CODE_LOAD_FIXED_SIZE;
    if code_size > room as u64 {
        return Err(error(at + 40, Problem::CodeTooLarge { code_size, room }));
    }
    // perf takes the code from the end of the record; the name is what lies
    // between the fixed fields and the code, up to its NUL.
    let code_start = record.len() - code_size as usize;
    let name_area = &record[CODE_LOAD_FIXED_SIZE..code_start];
    let name_len = name_area
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| error(at + CODE_LOAD_FIXED_SIZE, Problem::UnterminatedName))?;
    Ok(CodeLoad {
        pid: u32_at(record, 16),
        tid: u32_at(record, 20),
        vma: u64_at(record, 24),
        code_addr: u64_at(record, 32),
        code_index: u64_at(record, 48),
        name: String::from_utf8_lossy(&name_area[..name_len]).into_owned(),
        code: record[code_start..].to_vec(),
    })
}

fn unwinding_info(record: &[u8], at: usize) -> Result<UnwindingInfo, JitdumpError> {
    require_fixed(record, at, UNWINDING_INFO_FIXED_SIZE)?;
    let (unwinding_size, eh_frame_hdr_size) = (u64_at(record, 16), u64_at(record, 24));
    let data = &record[UNWINDING_INFO_FIXED_SIZE..];
    if unwinding_size > data.len() as u64 {
        let room = data.len();
        return Err(error(
            at + 16,
            Problem::UnwindingTooLarge {
                unwinding_size,
                room,
            },
        ));
    }
    if eh_frame_hdr_size > unwinding_size {
        let problem = Problem::HeaderLargerThanUnwinding {
            eh_frame_hdr_size,
            unwinding_size,
        };
        return Err(error(at + 24, problem));
    }
    Ok(UnwindingInfo {
        unwinding_size,
        eh_frame_hdr_size,
        mapped_size: u64_at(record, 32),
        data: data.to_vec(),
    })
}
