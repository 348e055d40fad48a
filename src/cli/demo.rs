//! `fair demo`: build a small catalogue from the built-in fixtures (the upstream
//! Seamless testset, `fixtures/upstream-testset/`) and show what was done.

use std::fs;
use std::path::PathBuf;

use anyhow::Context;
use faircore::{Catalogue, CollectionKind, Config, HashAlgo, Name};
use indexer::{InternMode, Options};

use crate::Exit;

/// The upstream six-file testset, built into the binary.
const TESTSET: [(&str, &[u8]); 6] = [
    (
        "5.txt",
        include_bytes!("../../fixtures/upstream-testset/5.txt"),
    ),
    (
        "8.txt",
        include_bytes!("../../fixtures/upstream-testset/8.txt"),
    ),
    (
        "9.txt",
        include_bytes!("../../fixtures/upstream-testset/9.txt"),
    ),
    (
        "seven.txt",
        include_bytes!("../../fixtures/upstream-testset/seven.txt"),
    ),
    (
        "six.txt",
        include_bytes!("../../fixtures/upstream-testset/six.txt"),
    ),
    (
        "ten.txt",
        include_bytes!("../../fixtures/upstream-testset/ten.txt"),
    ),
];

/// The checksum Seamless gives the testset's deepfolder (reference §1).
const SEAMLESS_CHECKSUM: &str = "8000684ee74723b6757d754beb77e22276f5775fb57578e730ba6aab16f11e41";

/// Flags of `fair demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to build the demo (must not exist) [default: a new temporary directory, kept].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Runs `fair demo`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let base = match &args.dir {
        Some(dir) => {
            fs::create_dir(dir).with_context(|| format!("--dir {}", dir.display()))?;
            dir.clone()
        }
        None => tempfile::Builder::new()
            .prefix("fair-demo-")
            .tempdir()
            .context("creating a temporary directory")?
            .keep(),
    };
    let source = base.join("source");
    fs::create_dir(&source).with_context(|| source.display().to_string())?;
    for (name, bytes) in TESTSET {
        let path = source.join(name);
        fs::write(&path, bytes).with_context(|| path.display().to_string())?;
    }
    println!(
        "1. wrote the upstream Seamless testset (6 files) to {}",
        source.display()
    );

    let root = base.join("catalogue");
    let catalogue = Catalogue::init(&root, Config::new(HashAlgo::Sha3_256, None))?;
    println!("2. fair init {} --hash sha3-256", root.display());

    let collection = Name::new("testset")?;
    let options = Options {
        source: source.clone(),
        collection: collection.clone(),
        intern: InternMode::Copy,
        bufferdir: None,
        jobs: None,
        allow_errors: false,
    };
    let report = indexer::index(&catalogue.writer()?, &options, &|_| ())?;
    let checksum = report
        .collections
        .get(collection.as_str())
        .context("the demo collection was not written")?;
    let path = catalogue.collection_path(CollectionKind::Deepfolder, &collection);
    println!(
        "3. fair index {} --source {} --collection testset --intern copy",
        root.display(),
        source.display()
    );
    println!(
        "   {} files hashed; {} written, checksum {checksum}",
        report.hashed,
        path.display()
    );
    let compatible = checksum.to_hex() == SEAMLESS_CHECKSUM;
    let verdict = if compatible {
        "identical to"
    } else {
        "DIFFERENT FROM"
    };
    println!("   {verdict} the checksum Seamless computes for the same files");
    println!("   buffers interned in {}", root.join("buffers").display());
    println!("\nTry: cat {}", path.display());
    println!(
        "     fair index {} --source {} --collection testset --json   # again: only changed files are read",
        root.display(),
        source.display()
    );
    Ok(if compatible {
        Exit::Success
    } else {
        Exit::Failure
    })
}
