//! Another process's modules from `/proc/PID/maps`.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::{Module, select};
use crate::elf::{self, Error};

struct Mapping {
    start: u64,
    offset: u64,
    exec: bool,
}

/// The ELF modules mapped in process `pid`, with their load biases.
///
/// For each mapped file, the bias is the start of its lowest mapping minus the virtual
/// address its file offset corresponds to in the `PT_LOAD` program header that covers
/// it. The build-id is read from the process's memory (`/proc/PID/mem`) when permitted,
/// from the file otherwise. Files that are not ELF are skipped.
pub fn remote_modules(pid: u32) -> Result<Vec<Module>, Error> {
    let maps_path = PathBuf::from(format!("/proc/{pid}/maps"));
    let text = std::fs::read_to_string(&maps_path).map_err(|e| Error::io(&maps_path, "read", e))?;
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    let mem = File::open(format!("/proc/{pid}/mem")).ok();
    let mut files: BTreeMap<PathBuf, Vec<Mapping>> = BTreeMap::new();
    let mut order: Vec<PathBuf> = Vec::new();
    let mut vdso: Option<(u64, u64)> = None;
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let (Some(range), Some(perms), Some(offset), Some(_dev), Some(_inode)) =
            (it.next(), it.next(), it.next(), it.next(), it.next())
        else {
            continue;
        };
        let path: String = it.collect::<Vec<_>>().join(" ");
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end), Ok(offset)) = (
            u64::from_str_radix(start, 16),
            u64::from_str_radix(end, 16),
            u64::from_str_radix(offset, 16),
        ) else {
            continue;
        };
        if path == "[vdso]" {
            vdso = Some((start, end));
            continue;
        }
        if !path.starts_with('/') {
            continue;
        }
        let path = PathBuf::from(path);
        if !files.contains_key(&path) {
            order.push(path.clone());
        }
        files.entry(path).or_default().push(Mapping {
            start,
            offset,
            exec: perms.contains('x'),
        });
    }
    let mut out = Vec::new();
    for path in order {
        let maps = &files[&path];
        for m in modules_for(&path, maps, mem.as_ref(), pid) {
            let is_main = exe.as_deref() == Some(path.as_path());
            out.push(Module { is_main, ..m });
        }
    }
    if let Some((start, end)) = vdso {
        out.push(Module {
            path: PathBuf::from("linux-vdso.so.1"),
            bias: start,
            build_id: None,
            soname: None,
            tls_module_id: 0,
            segments: vec![(start, end)],
            is_main: false,
            is_vdso: true,
            pid: Some(pid),
        });
    }
    Ok(out)
}

/// The module of process `pid` that `selector` names (`"main"`, path, file name, soname).
pub fn find_remote(pid: u32, selector: &str) -> Result<Module, Error> {
    select(remote_modules(pid)?, selector, &format!("process {pid}"))
}

/// The images of one file: one per distinct load bias (a library loaded into two link
/// namespaces appears twice). Only executable mappings count, so that plain `mmap`s of
/// the file (a debugger's, or our own index's) are not mistaken for loaded images.
fn modules_for(path: &Path, maps: &[Mapping], mem: Option<&File>, pid: u32) -> Vec<Module> {
    let Ok(file) = File::open(path) else {
        return Vec::new();
    };
    // SAFETY: a private read-only mapping, dropped before returning; a concurrent
    // rewrite of a loaded library is outside our control (see `SymbolIndex::open`).
    let Ok(data) = (unsafe { memmap2::Mmap::map(&file) }) else {
        return Vec::new();
    };
    let Ok(phdrs) = elf::program_headers(&data) else {
        return Vec::new();
    };
    let soname = elf::soname_of(&data).map(|s| String::from_utf8_lossy(s).into_owned());
    let loads: Vec<_> = phdrs
        .iter()
        .filter(|p| p.p_type == object::elf::PT_LOAD.0)
        .collect();
    // SAFETY: sysconf has no preconditions.
    let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        p if p > 0 => p as u64,
        _ => 4096,
    };
    let mut biases: Vec<u64> = Vec::new();
    for m in maps.iter().filter(|m| m.exec) {
        // The executable PT_LOAD the kernel mapped here: its offset rounded down to a
        // page is the mapping's offset.
        let Some(load) = loads
            .iter()
            .find(|p| p.flags & object::elf::PF_X.0 != 0 && p.offset - p.offset % page == m.offset)
        else {
            continue;
        };
        // vaddr - offset is the same for every byte of a segment.
        let delta = load.vaddr.wrapping_sub(load.offset);
        let bias = m.start.wrapping_sub(m.offset.wrapping_add(delta));
        if !biases.contains(&bias) {
            biases.push(bias);
        }
    }
    biases
        .into_iter()
        .map(|bias| {
            let segments: Vec<(u64, u64)> = loads
                .iter()
                .map(|p| {
                    (
                        bias.wrapping_add(p.vaddr),
                        bias.wrapping_add(p.vaddr).wrapping_add(p.memsz),
                    )
                })
                .collect();
            let mut build_id = None;
            if let Some(mem) = mem {
                for n in phdrs
                    .iter()
                    .filter(|p| p.p_type == object::elf::PT_NOTE.0 && p.memsz < 1 << 20)
                {
                    let mut buf = vec![0u8; n.memsz as usize];
                    if mem
                        .read_exact_at(&mut buf, bias.wrapping_add(n.vaddr))
                        .is_ok()
                    {
                        if let Some(id) = elf::build_id_from_notes(&buf, n.align) {
                            build_id = Some(id.to_vec());
                            break;
                        }
                    }
                }
            }
            if build_id.is_none() {
                build_id = elf::build_id(&data).ok().flatten().map(<[u8]>::to_vec);
            }
            Module {
                path: path.to_path_buf(),
                bias,
                build_id,
                soname: soname.clone(),
                tls_module_id: 0,
                segments,
                is_main: false,
                is_vdso: false,
                pid: Some(pid),
            }
        })
        .collect()
}
