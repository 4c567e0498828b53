//! Encrypted keystores (Web3 Secret Storage v3, scrypt): one file `<id>.json` per key
//! in a keystore directory, and the checks that keep that directory private.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use alloy_primitives::Address;
use alloy_signer_local::PrivateKeySigner;
use zeroize::Zeroizing;

use crate::secret::{Password, PrivateKey};

/// Longest key id accepted.
pub const MAX_ID_LEN: usize = 64;

const KEYSTORE_SUFFIX: &str = ".json";

/// Why a keystore operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// A key id with characters outside `[A-Za-z0-9_-]`, or empty, or too long.
    #[error("invalid key id {0:?}: use 1 to 64 characters from A-Z a-z 0-9 _ -")]
    InvalidId(String),
    /// A file or directory that must stay private can be read by any user.
    #[error("{what} {path} is world-readable (mode {mode:o}); run `chmod o-rwx {path}`")]
    WorldReadable {
        /// What the path is (keystore directory, token file, ...).
        what: &'static str,
        /// The offending path.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A key with this id already exists.
    #[error("a key with id {0:?} already exists; refusing to overwrite it")]
    AlreadyExists(String),
    /// The key bytes are not a valid secp256k1 private key.
    #[error("not a valid secp256k1 private key")]
    InvalidKey,
    /// The keystore could not be decrypted (wrong password or a damaged file).
    #[error("cannot decrypt keystore {path}: wrong password or damaged file ({reason})")]
    Decrypt {
        /// The keystore file.
        path: PathBuf,
        /// What the keystore library said.
        reason: String,
    },
    /// The keystore could not be written.
    #[error("cannot write keystore {path}: {reason}")]
    Encrypt {
        /// The keystore file.
        path: PathBuf,
        /// What the keystore library said.
        reason: String,
    },
    /// A filesystem error.
    #[error("{path}: {source}")]
    Io {
        /// The path being read or written.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> KeystoreError + '_ {
    move |source| KeystoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Refuses a path that any user may read (`mode & 0o004`).
///
/// # Errors
///
/// [`KeystoreError::WorldReadable`] when the "other" read bit is set,
/// [`KeystoreError::Io`] when the path cannot be inspected.
pub fn ensure_not_world_readable(path: &Path, what: &'static str) -> Result<(), KeystoreError> {
    let mode = fs::metadata(path)
        .map_err(io_error(path))?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o004 != 0 {
        return Err(KeystoreError::WorldReadable {
            what,
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// Checks that `id` is usable as a key id (and a file name): 1 to 64 of `[A-Za-z0-9_-]`.
///
/// # Errors
///
/// [`KeystoreError::InvalidId`] otherwise.
pub fn validate_id(id: &str) -> Result<(), KeystoreError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(KeystoreError::InvalidId(id.to_owned()))
    }
}

/// The keystore file of key `id` in `dir`.
#[must_use]
pub fn keystore_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}{KEYSTORE_SUFFIX}"))
}

/// A loaded signing key. The key itself lives in the signing library's key type,
/// which zeroizes it on drop; `Debug` shows only the id and address.
pub struct SigningKey {
    id: String,
    signer: PrivateKeySigner,
}

impl SigningKey {
    /// Builds a signing key from raw key bytes.
    ///
    /// # Errors
    ///
    /// [`KeystoreError::InvalidKey`] when the bytes are not a valid secp256k1 scalar.
    pub fn from_private_key(id: &str, key: &PrivateKey) -> Result<Self, KeystoreError> {
        let signer =
            PrivateKeySigner::from_slice(key.expose()).map_err(|_| KeystoreError::InvalidKey)?;
        Ok(Self {
            id: id.to_owned(),
            signer,
        })
    }

    /// The key id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key's Ethereum address.
    #[must_use]
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// The signer, for [`crate::tx::sign`].
    #[must_use]
    pub fn signer(&self) -> &PrivateKeySigner {
        &self.signer
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("address", &self.address())
            .finish_non_exhaustive()
    }
}

/// Creates `dir` private (0700) if it is missing, and refuses it if it is world-readable.
fn prepare_dir(dir: &Path) -> Result<(), KeystoreError> {
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_error(dir))?;
    }
    ensure_not_world_readable(dir, "keystore directory")
}

/// Encrypts `key` with `password` into `<dir>/<id>.json` (mode 0600) and returns its address.
/// The directory is created (mode 0700) if missing.
///
/// # Errors
///
/// [`KeystoreError::InvalidId`], [`KeystoreError::AlreadyExists`],
/// [`KeystoreError::InvalidKey`], [`KeystoreError::WorldReadable`] for a readable
/// directory, [`KeystoreError::Encrypt`] or [`KeystoreError::Io`] when writing fails.
pub fn import(
    dir: &Path,
    id: &str,
    key: &PrivateKey,
    password: &Password,
) -> Result<Address, KeystoreError> {
    validate_id(id)?;
    let signing_key = SigningKey::from_private_key(id, key)?;
    prepare_dir(dir)?;
    let path = keystore_path(dir, id);
    if path.exists() {
        return Err(KeystoreError::AlreadyExists(id.to_owned()));
    }
    let file_name = format!("{id}{KEYSTORE_SUFFIX}");
    eth_keystore::encrypt_key(
        dir,
        &mut rand::thread_rng(),
        key.expose(),
        password.expose(),
        Some(&file_name),
    )
    .map_err(|e| KeystoreError::Encrypt {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    // The directory is private already; tighten the file too, as other tools expect.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).map_err(io_error(&path))?;
    Ok(signing_key.address())
}

/// Generates a random key, stores it like [`import`] and returns its address.
///
/// # Errors
///
/// As [`import`].
pub fn generate(dir: &Path, id: &str, password: &Password) -> Result<Address, KeystoreError> {
    // A uniformly random 32-byte string is a valid scalar except with negligible probability;
    // `import` refuses the rare invalid one.
    import(dir, id, &PrivateKey::random(), password)
}

/// Decrypts the keystore at `path` as key `id`.
///
/// # Errors
///
/// [`KeystoreError::Decrypt`] for a wrong password or damaged file,
/// [`KeystoreError::InvalidKey`] if it holds an invalid key.
pub fn load(path: &Path, id: &str, password: &Password) -> Result<SigningKey, KeystoreError> {
    let secret = Zeroizing::new(eth_keystore::decrypt_key(path, password.expose()).map_err(
        |e| KeystoreError::Decrypt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        },
    )?);
    let key = PrivateKey::from_slice(&secret).map_err(|_| KeystoreError::InvalidKey)?;
    SigningKey::from_private_key(id, &key)
}

/// Every loaded key, by id.
#[derive(Debug, Default)]
pub struct KeyRing {
    keys: BTreeMap<String, SigningKey>,
}

impl KeyRing {
    /// Builds a key ring from already loaded keys.
    #[must_use]
    pub fn from_keys(keys: impl IntoIterator<Item = SigningKey>) -> Self {
        Self {
            keys: keys.into_iter().map(|k| (k.id.clone(), k)).collect(),
        }
    }

    /// Loads every `<id>.json` keystore in `dir`, refusing a world-readable directory or file.
    ///
    /// # Errors
    ///
    /// [`KeystoreError::WorldReadable`] for a readable directory or keystore file,
    /// [`KeystoreError::Decrypt`] for a keystore the password does not open,
    /// [`KeystoreError::InvalidId`] for a keystore whose file name is not a valid id,
    /// [`KeystoreError::Io`] when the directory cannot be read.
    pub fn load_dir(dir: &Path, password: &Password) -> Result<Self, KeystoreError> {
        let mut keys = Vec::new();
        for (id, path) in keystore_files(dir)? {
            ensure_not_world_readable(&path, "keystore file")?;
            keys.push(load(&path, &id, password)?);
        }
        Ok(Self::from_keys(keys))
    }

    /// The key with this id.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&SigningKey> {
        self.keys.get(id)
    }

    /// All keys, ordered by id.
    pub fn iter(&self) -> impl Iterator<Item = &SigningKey> {
        self.keys.values()
    }

    /// How many keys there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The `(id, path)` of every keystore file in `dir`, ordered by id, after checking
/// that `dir` is not world-readable. Files not ending in `.json` are ignored.
fn keystore_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, KeystoreError> {
    ensure_not_world_readable(dir, "keystore directory")?;
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let path = entry.path();
        let Some(id) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.strip_suffix(KEYSTORE_SUFFIX))
            .map(str::to_owned)
        else {
            continue;
        };
        if !path.is_file() {
            continue;
        }
        validate_id(&id)?;
        found.push((id, path));
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn password() -> Password {
        Password::new("correct horse battery staple".to_owned()).unwrap()
    }

    fn private_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        dir
    }

    #[test]
    fn import_then_load_round_trip() {
        let dir = private_dir();
        let key = PrivateKey::from_bytes([0x46; 32]);
        let address = import(dir.path(), "hot-1", &key, &password()).unwrap();
        assert_eq!(
            address.to_checksum(None),
            "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"
        );

        let path = keystore_path(dir.path(), "hot-1");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("\"scrypt\""),
            "Web3 Secret Storage with scrypt"
        );
        assert!(
            !text.contains(&"46".repeat(32)),
            "the key is stored encrypted"
        );

        let ring = KeyRing::load_dir(dir.path(), &password()).unwrap();
        assert_eq!(ring.len(), 1);
        let loaded = ring.get("hot-1").unwrap();
        assert_eq!(loaded.address(), address);
        assert_eq!(loaded.signer().to_bytes().0, [0x46; 32]);
    }

    #[test]
    fn wrong_password_is_refused() {
        let dir = private_dir();
        import(
            dir.path(),
            "k",
            &PrivateKey::from_bytes([7; 32]),
            &password(),
        )
        .unwrap();
        let wrong = Password::new("nope".to_owned()).unwrap();
        let err = KeyRing::load_dir(dir.path(), &wrong).unwrap_err();
        assert!(matches!(err, KeystoreError::Decrypt { .. }), "{err}");
    }

    #[test]
    fn refuses_to_overwrite_and_bad_ids() {
        let dir = private_dir();
        let key = PrivateKey::from_bytes([7; 32]);
        import(dir.path(), "k", &key, &password()).unwrap();
        assert!(matches!(
            import(dir.path(), "k", &key, &password()),
            Err(KeystoreError::AlreadyExists(_))
        ));
        for bad in ["", "../x", "a b", "x.json", &"a".repeat(65)] {
            assert!(
                matches!(validate_id(bad), Err(KeystoreError::InvalidId(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn refuses_invalid_scalar() {
        let dir = private_dir();
        let zero = PrivateKey::from_bytes([0; 32]);
        assert!(matches!(
            import(dir.path(), "zero", &zero, &password()),
            Err(KeystoreError::InvalidKey)
        ));
    }

    #[test]
    fn world_readable_directory_or_file_is_refused() {
        let dir = private_dir();
        import(
            dir.path(),
            "k",
            &PrivateKey::from_bytes([7; 32]),
            &password(),
        )
        .unwrap();

        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o705)).unwrap();
        let err = KeyRing::load_dir(dir.path(), &password()).unwrap_err();
        assert!(matches!(
            err,
            KeystoreError::WorldReadable {
                what: "keystore directory",
                ..
            }
        ));
        assert!(err.to_string().contains("world-readable"));

        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        let file = keystore_path(dir.path(), "k");
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        let err = KeyRing::load_dir(dir.path(), &password()).unwrap_err();
        assert!(matches!(
            err,
            KeystoreError::WorldReadable {
                what: "keystore file",
                ..
            }
        ));
    }

    #[test]
    fn generate_makes_a_loadable_key() {
        let dir = private_dir();
        let address = generate(dir.path(), "fresh", &password()).unwrap();
        let ring = KeyRing::load_dir(dir.path(), &password()).unwrap();
        assert_eq!(ring.get("fresh").map(SigningKey::address), Some(address));
    }

    #[test]
    fn debug_shows_no_key_material() {
        let key = SigningKey::from_private_key("k", &PrivateKey::from_bytes([0x46; 32])).unwrap();
        let printed = format!("{key:?}");
        assert!(
            printed.contains("0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F")
                || printed.contains("9d8a62")
        );
        assert!(!printed.contains("4646"));
    }
}
