//! The index on local disk: a commit's files cached under one root, a read-only snapshot
//! per commit opened over hard links to them, and the writer that turns a commit plus
//! changed requests into the next commit. Blocking (tantivy's files); callers run it on the
//! blocking pool.

use super::schema::{document, fields_of, register, schema, Fields, RequestText};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tantivy::directory::MmapDirectory;
use tantivy::schema::Term;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy};

/// A commit of the index: its id (unique, even between two writers racing for the same
/// version), its version, tantivy's `meta.json` (without the schema), the segment files it
/// names, and the packs that hold them. The default is the empty index.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Commit {
    pub id: String,
    pub version: u64,
    pub meta: String,
    pub files: Vec<String>,
    pub packs: Vec<PackRef>,
    /// Packs no commit since uses, and since when: deleted once past the grace period, so
    /// searchers paging through an older commit still find them.
    #[serde(default)]
    pub dropped: Vec<Dropped>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Dropped {
    pub pack: String,
    pub at: i64,
}

/// A pack (one bucket object, named by the commit that wrote it) and which of its files the
/// commit still uses.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PackRef {
    pub id: String,
    pub files: Vec<String>,
}

/// What a pack starts with: the commit that wrote it, and where each of its files lies in
/// the bytes after the header.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PackHeader {
    pub commit: Commit,
    pub contents: Vec<(String, u64, u64)>,
}

/// A pack's bytes: the header's length (8 bytes, little-endian), the header (JSON), then each
/// file's bytes one after the other. One object per commit: one PUT, whatever the number of
/// segment files it made.
pub fn encode_pack(commit: &Commit, files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut offset = 0;
    let contents = files
        .iter()
        .map(|(name, bytes)| {
            let entry = (name.clone(), offset, bytes.len() as u64);
            offset += bytes.len() as u64;
            entry
        })
        .collect();
    let header = serde_json::to_vec(&PackHeader { commit: commit.clone(), contents }).expect("a header serialises");
    let mut out = Vec::with_capacity(8 + header.len() + offset as usize);
    out.extend((header.len() as u64).to_le_bytes());
    out.extend(header);
    for (_, bytes) in files {
        out.extend(bytes);
    }
    out
}

/// A pack's files, each by name, as slices of the pack's bytes.
pub type Packed<'a> = Vec<(String, &'a [u8])>;

/// A pack's header and its files (None for a pack that is not one).
pub fn decode_pack(bytes: &[u8]) -> Option<(PackHeader, Packed<'_>)> {
    let length = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
    let header: PackHeader = serde_json::from_slice(bytes.get(8..8usize.checked_add(length)?)?).ok()?;
    let data = &bytes[8 + length..];
    let files = header
        .contents
        .iter()
        .map(|(name, offset, len)| Some((name.clone(), data.get(*offset as usize..(*offset + *len) as usize)?)))
        .collect::<Option<Vec<_>>>()?;
    Some((header, files))
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index files: {0}")]
    Io(#[from] std::io::Error),
    /// A file the bucket does not have (a commit past its grace period).
    #[error("search index file {0} is gone")]
    Missing(String),
    #[error("search index: {0}")]
    Other(String),
}

impl From<tantivy::directory::error::OpenDirectoryError> for EngineError {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        EngineError::Other(e.to_string())
    }
}

/// The writer's memory budget: tantivy's floor per thread is 15 MB.
const WRITER_HEAP: usize = 32_000_000;
const META: &str = "meta.json";

/// `meta.json` as kept in the pointer: the schema (most of it, and always the code's own)
/// left out.
fn without_schema(meta: &str) -> Result<String, EngineError> {
    let mut value: serde_json::Value = serde_json::from_str(meta).map_err(|e| EngineError::Other(e.to_string()))?;
    if let Some(map) = value.as_object_mut() {
        map.remove("schema");
    }
    Ok(value.to_string())
}

fn with_schema(meta: &str) -> Result<String, EngineError> {
    let mut value: serde_json::Value = serde_json::from_str(meta).map_err(|e| EngineError::Other(e.to_string()))?;
    value["schema"] = serde_json::to_value(schema().0).map_err(|e| EngineError::Other(e.to_string()))?;
    Ok(value.to_string())
}

/// One local root: `files/` (every segment file fetched or written, immutable), `v<N>/` (a
/// commit's view: hard links plus its meta.json) and `writer/`.
#[derive(Debug, Clone)]
pub struct LocalIndex {
    root: PathBuf,
}

/// A commit opened for searching.
pub struct Snapshot {
    pub version: u64,
    pub reader: IndexReader,
    pub fields: Fields,
}

impl LocalIndex {
    pub fn new(root: PathBuf) -> LocalIndex {
        LocalIndex { root }
    }

    pub fn cached(&self, name: &str) -> PathBuf {
        self.root.join("files").join(name)
    }

    /// The packs holding files of `commit` not cached yet (to fetch before opening it).
    pub fn missing(&self, commit: &Commit) -> Vec<String> {
        let missing = |p: &&PackRef| p.files.iter().any(|f| !self.cached(f).exists());
        commit.packs.iter().filter(missing).map(|p| p.id.clone()).collect()
    }

    /// Keeps a fetched file (written aside, then renamed: a reader never sees half a file).
    pub fn keep(&self, name: &str, bytes: &[u8]) -> Result<(), EngineError> {
        let path = self.cached(name);
        std::fs::create_dir_all(path.parent().expect("files/ has a parent"))?;
        let aside = path.with_extension(format!("part-{}", crate::text::new_ulid()));
        std::fs::write(&aside, bytes)?;
        std::fs::rename(aside, path)?;
        Ok(())
    }

    /// A directory holding exactly `commit` (links to cached files and its meta.json).
    fn lay_out(&self, dir: &Path, commit: &Commit) -> Result<(), EngineError> {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
        for name in &commit.files {
            std::fs::hard_link(self.cached(name), dir.join(name))?;
        }
        if !commit.meta.is_empty() {
            std::fs::write(dir.join(META), with_schema(&commit.meta)?)?;
        }
        Ok(())
    }

    /// Opens `commit` for searching (every file cached already). Version 0 is the empty index.
    pub fn open(&self, commit: &Commit) -> Result<Snapshot, EngineError> {
        let dir = self.root.join(format!("v{}", commit.id));
        let index = if commit.meta.is_empty() {
            Index::create_in_ram(schema().0)
        } else {
            self.lay_out(&dir, commit)?;
            Index::open(MmapDirectory::open(&dir)?)?
        };
        register(&index);
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(Snapshot { version: commit.version, reader, fields: fields_of(&index)? })
    }

    /// Forgets views other than `keep`, and cached files none of them names.
    pub fn prune(&self, keep: &[&Commit]) -> Result<(), EngineError> {
        let versions: BTreeSet<String> = keep.iter().map(|c| format!("v{}", c.id)).collect();
        let names: BTreeSet<&String> = keep.iter().flat_map(|c| &c.files).collect();
        let Ok(entries) = std::fs::read_dir(&self.root) else { return Ok(()) };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('v') && !versions.contains(&name) {
                std::fs::remove_dir_all(entry.path())?;
            }
        }
        if let Ok(files) = std::fs::read_dir(self.root.join("files")) {
            for entry in files.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                // A file being unpacked is not one yet.
                if !names.contains(&name) && !name.contains(".part-") {
                    std::fs::remove_file(entry.path())?;
                }
            }
        }
        Ok(())
    }

    /// The commit after `base` (None: the empty index): each changed request's document
    /// replaced (deleted when None), segments merged as tantivy's merge policy asks. Returns
    /// the new commit (version `base + 1`) and which of its files are new.
    pub fn write(
        &self,
        base: &Commit,
        changes: &[(String, Option<RequestText>)],
    ) -> Result<(Commit, Vec<String>), EngineError> {
        let dir = self.root.join("writer");
        let index = if base.meta.is_empty() {
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
            std::fs::create_dir_all(&dir)?;
            Index::create_in_dir(&dir, schema().0)?
        } else {
            self.lay_out(&dir, base)?;
            Index::open(MmapDirectory::open(&dir)?)?
        };
        register(&index);
        let fields = fields_of(&index)?;
        let mut writer: IndexWriter = index.writer_with_num_threads(1, WRITER_HEAP)?;
        for (key, text) in changes {
            writer.delete_term(Term::from_field_text(fields.key, key));
            if let Some(text) = text {
                writer.add_document(document(&fields, text))?;
            }
        }
        writer.commit()?;
        writer.wait_merging_threads()?;
        let meta = without_schema(&std::fs::read_to_string(dir.join(META))?)?;
        let metas = index.load_metas()?;
        let mut files: Vec<String> = metas
            .list_segment_files()
            .into_iter()
            .filter(|p| dir.join(p).exists())
            .map(|p| p.to_string_lossy().to_string())
            .collect();
        files.sort();
        let mut new = vec![];
        for name in &files {
            if !base.files.contains(name) {
                if !self.cached(name).exists() {
                    std::fs::create_dir_all(self.root.join("files"))?;
                    std::fs::hard_link(dir.join(name), self.cached(name))?;
                }
                new.push(name.clone());
            }
        }
        // The packs still used, with the files still used in each, then this commit's own.
        let id = crate::text::new_ulid();
        let mut packs: Vec<PackRef> = base
            .packs
            .iter()
            .map(|p| PackRef {
                id: p.id.clone(),
                files: p.files.iter().filter(|f| files.contains(f)).cloned().collect(),
            })
            .filter(|p| !p.files.is_empty())
            .collect();
        packs.push(PackRef { id: id.clone(), files: new.clone() });
        let commit = Commit { id, version: base.version + 1, meta, files, packs, dropped: vec![] };
        Ok((commit, new))
    }
}
