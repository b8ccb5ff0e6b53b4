//! The writer's bytes read back by the reader, and the reader against every
//! truncation and corrupted size of a valid dump: always a clear error with
//! an offset, never a panic.

use jitdump::format::{CODE_LOAD_FIXED_SIZE, HEADER_SIZE, UNWINDING_INFO_FIXED_SIZE};
use jitdump::{
    parse, parse_complete_records, CodeLoad, Header, Problem, Record, RecordBody, UnwindingInfo,
};

fn code_load(index: u64, name: &str, code: &[u8]) -> RecordBody {
    RecordBody::CodeLoad(CodeLoad {
        pid: 4242,
        tid: 4243,
        vma: 0x7f00_0000 + index * 0x60,
        code_addr: 0x7f00_0000 + index * 0x60,
        code_index: index,
        name: name.to_string(),
        code: code.to_vec(),
    })
}

fn unwinding(data_len: usize, hdr: u64) -> RecordBody {
    let data: Vec<u8> = (0..data_len as u8).collect();
    RecordBody::UnwindingInfo(UnwindingInfo {
        unwinding_size: data_len as u64,
        eh_frame_hdr_size: hdr,
        mapped_size: data_len as u64,
        data,
    })
}

/// A dump with every kind of record, and the records as the reader should
/// return them (with their offsets), and the offset where each record ends.
fn sample_dump() -> (Vec<u8>, Header, Vec<Record>, Vec<usize>) {
    let header = Header::new(62, 4242, 1_000);
    let bodies = [
        unwinding(45, 20),
        code_load(
            1,
            "py::foo:/x.py",
            &[0x55, 0x48, 0x89, 0xe5, 0xff, 0xd1, 0x5d, 0xc3],
        ),
        unwinding(45, 20),
        code_load(2, "py::bär", &[0xc3]),
        RecordBody::Other {
            id: 3,
            payload: vec![],
        },
        code_load(3, "", &[]),
    ];
    let mut bytes = header.encode();
    let (mut records, mut ends) = (Vec::new(), vec![bytes.len()]);
    for (i, body) in bodies.into_iter().enumerate() {
        let timestamp = 2_000 + i as u64;
        let mut body = body;
        let encoded = body.encode(timestamp).unwrap();
        if let RecordBody::UnwindingInfo(info) = &mut body {
            // The reader keeps the padding the writer added as data.
            info.data = encoded[UNWINDING_INFO_FIXED_SIZE..].to_vec();
        }
        records.push(Record {
            offset: bytes.len(),
            timestamp,
            body,
        });
        bytes.extend(encoded);
        ends.push(bytes.len());
    }
    (bytes, header, records, ends)
}

#[test]
fn header_bytes_follow_the_specification() {
    let bytes = Header::new(183, 7, 0x0102_0304_0506_0708).encode();
    assert_eq!(bytes.len(), HEADER_SIZE);
    let word = |i: usize| u32::from_ne_bytes(bytes[i..i + 4].try_into().unwrap());
    assert_eq!(word(0), 0x4A69_5444, "magic");
    assert_eq!(&bytes[0..4], &0x4A69_5444u32.to_ne_bytes());
    assert_eq!(
        (word(4), word(8), word(12), word(16), word(20)),
        (1, 40, 183, 0, 7)
    );
    assert_eq!(
        u64::from_ne_bytes(bytes[24..32].try_into().unwrap()),
        0x0102_0304_0506_0708
    );
    assert_eq!(&bytes[32..40], &[0; 8], "flags");
    if cfg!(target_endian = "little") {
        assert_eq!(&bytes[0..4], b"DTiJ");
    }
}

#[test]
fn code_load_record_layout() {
    let record = code_load(9, "py::f", &[1, 2, 3]).encode(77).unwrap();
    assert_eq!(record.len(), CODE_LOAD_FIXED_SIZE + "py::f".len() + 1 + 3);
    let u32_at = |i: usize| u32::from_ne_bytes(record[i..i + 4].try_into().unwrap());
    let u64_at = |i: usize| u64::from_ne_bytes(record[i..i + 8].try_into().unwrap());
    assert_eq!(
        (u32_at(0), u32_at(4) as usize, u64_at(8)),
        (0, record.len(), 77)
    );
    assert_eq!((u32_at(16), u32_at(20)), (4242, 4243));
    assert_eq!(
        (u64_at(24), u64_at(32), u64_at(40), u64_at(48)),
        (0x7f00_0360, 0x7f00_0360, 3, 9)
    );
    assert_eq!(&record[56..], b"py::f\0\x01\x02\x03");
}

#[test]
fn unwinding_record_is_padded_to_eight_bytes() {
    let record = unwinding(45, 20).encode(5).unwrap();
    assert_eq!(
        record.len(),
        (UNWINDING_INFO_FIXED_SIZE + 45).next_multiple_of(8)
    );
    assert_eq!(u32::from_ne_bytes(record[0..4].try_into().unwrap()), 4);
    assert_eq!(
        u32::from_ne_bytes(record[4..8].try_into().unwrap()) as usize,
        record.len()
    );
    let sizes: Vec<u64> = (16..40)
        .step_by(8)
        .map(|i| u64::from_ne_bytes(record[i..i + 8].try_into().unwrap()))
        .collect();
    assert_eq!(sizes, [45, 20, 45]);
    assert!(record[UNWINDING_INFO_FIXED_SIZE + 45..]
        .iter()
        .all(|&b| b == 0));
}

#[test]
fn a_nul_in_a_name_is_refused_by_the_writer() {
    let err = code_load(1, "py::a\0b", &[]).encode(0).unwrap_err();
    assert!(err.to_string().contains("NUL"), "{err}");
}

#[test]
fn written_records_read_back_unchanged() {
    let (bytes, header, records, _) = sample_dump();
    let dump = parse(&bytes).unwrap();
    assert_eq!(dump.header, header);
    assert_eq!(dump.records, records);
    let names: Vec<&str> = dump.code_loads().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["py::foo:/x.py", "py::bär", ""]);
    let RecordBody::UnwindingInfo(info) = &dump.records[0].body else {
        panic!("not unwinding")
    };
    assert_eq!(info.unwinding_data(), (0..45).collect::<Vec<u8>>());
    assert_eq!(info.eh_frame(), (0..25).collect::<Vec<u8>>());
    assert_eq!(info.eh_frame_hdr(), (25..45).collect::<Vec<u8>>());
    for record in &dump.records {
        assert_eq!(
            record.encode().unwrap(),
            bytes[record.offset..][..record.encode().unwrap().len()]
        );
    }
}

#[test]
fn every_truncation_is_an_error_with_an_offset_unless_it_ends_on_a_record() {
    let (bytes, _, records, ends) = sample_dump();
    for len in 0..bytes.len() {
        let cut = &bytes[..len];
        match parse(cut) {
            Ok(dump) => {
                let whole = ends.iter().position(|&e| e == len);
                let whole = whole.unwrap_or_else(|| panic!("{len} bytes parsed but cut a record"));
                assert_eq!(dump.records, records[..whole], "at {len} bytes");
            }
            Err(e) => {
                assert!(
                    ends.binary_search(&len).is_err(),
                    "{len} bytes end on a record: {e}"
                );
                assert!(
                    matches!(e.problem, Problem::Truncated { .. }),
                    "{len} bytes: {e}"
                );
                assert!(
                    e.offset <= len,
                    "{len} bytes: offset {} past the end",
                    e.offset
                );
                let message = e.to_string();
                assert!(
                    message.starts_with(&format!("jitdump byte {}: ", e.offset)),
                    "{message}"
                );
                assert!(message.contains("truncated"), "{message}");
                // The lenient reader keeps the whole records before the cut.
                if len >= HEADER_SIZE {
                    let (dump, problem) = parse_complete_records(cut).unwrap();
                    assert_eq!(problem, Some(e));
                    let whole = ends.iter().filter(|&&end| end <= len).count() - 1;
                    assert_eq!(dump.records, records[..whole]);
                }
            }
        }
    }
}

fn set_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_ne_bytes());
}

fn set_u64(bytes: &mut [u8], at: usize, value: u64) {
    bytes[at..at + 8].copy_from_slice(&value.to_ne_bytes());
}

#[test]
fn corrupted_sizes_are_named_with_their_offset() {
    let (bytes, _, records, _) = sample_dump();
    let (unwind_at, load_at) = (records[0].offset, records[1].offset);
    let load_size = records[2].offset - load_at;
    let case = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut b = bytes.clone();
        edit(&mut b);
        parse(&b).unwrap_err()
    };

    let e = case(&|b| set_u32(b, 0, 0xdead_beef));
    assert_eq!((e.offset, e.problem), (0, Problem::BadMagic(0xdead_beef)));
    let e = case(&|b| set_u32(b, 0, 0x4A69_5444u32.swap_bytes()));
    assert_eq!((e.offset, e.problem), (0, Problem::ForeignByteOrder));
    let e = case(&|b| set_u32(b, 4, 2));
    assert_eq!((e.offset, e.problem), (4, Problem::UnsupportedVersion(2)));
    let e = case(&|b| set_u32(b, 8, 39));
    assert_eq!((e.offset, e.problem), (8, Problem::HeaderTooSmall(39)));
    let e = case(&|b| set_u32(b, 8, u32::MAX));
    assert!(
        matches!(e.problem, Problem::Truncated { what: "header", .. }),
        "{e}"
    );

    for bad in [0, 1, 15] {
        let e = case(&|b| set_u32(b, load_at + 4, bad));
        assert_eq!(e.offset, load_at + 4, "{e}");
        assert!(
            matches!(e.problem, Problem::RecordTooSmall { size, min: 16, .. } if size == bad),
            "{e}"
        );
    }
    let e = case(&|b| set_u32(b, load_at + 4, 20));
    assert!(
        matches!(
            e.problem,
            Problem::RecordTooSmall {
                kind: "JIT_CODE_LOAD",
                min: 56,
                ..
            }
        ),
        "{e}"
    );
    let e = case(&|b| set_u32(b, load_at + 4, u32::MAX));
    assert_eq!(e.offset, load_at);
    assert!(
        matches!(
            e.problem,
            Problem::Truncated {
                what: "JIT_CODE_LOAD",
                ..
            }
        ),
        "{e}"
    );
    // One byte shorter: the record loses its last code byte, and the next
    // record is then read one byte early.
    let e = case(&|b| set_u32(b, load_at + 4, load_size as u32 - 1));
    assert!(e.offset >= load_at, "{e}");

    let e = case(&|b| set_u64(b, load_at + 40, 1 << 40));
    assert_eq!(e.offset, load_at + 40);
    assert!(
        matches!(e.problem, Problem::CodeTooLarge { code_size, .. } if code_size == 1 << 40),
        "{e}"
    );
    // Code that swallows the name's NUL leaves an unterminated name.
    let name_and_code = (load_size - CODE_LOAD_FIXED_SIZE) as u64;
    let e = case(&|b| set_u64(b, load_at + 40, name_and_code));
    assert_eq!(
        (e.offset, e.problem),
        (load_at + CODE_LOAD_FIXED_SIZE, Problem::UnterminatedName)
    );

    let e = case(&|b| set_u64(b, unwind_at + 16, 1000));
    assert_eq!(e.offset, unwind_at + 16);
    assert!(
        matches!(
            e.problem,
            Problem::UnwindingTooLarge {
                unwinding_size: 1000,
                room: 48
            }
        ),
        "{e}"
    );
    let e = case(&|b| set_u64(b, unwind_at + 24, 46));
    assert_eq!(e.offset, unwind_at + 24);
    assert!(
        matches!(
            e.problem,
            Problem::HeaderLargerThanUnwinding {
                eh_frame_hdr_size: 46,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn no_single_corrupted_byte_makes_the_reader_panic() {
    let (bytes, _, _, _) = sample_dump();
    for at in 0..bytes.len() {
        for value in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[at] = value;
            // Either outcome is fine; a panic fails the test.
            match parse(&b) {
                Ok(dump) => assert!(dump.records.len() <= 7),
                Err(e) => assert!(e.offset <= b.len(), "byte {at} = {value:#x}: {e}"),
            }
        }
    }
}
