//! The signing policy: per key, which chains, how much per transaction and per rolling
//! day, and which destinations never. It lives in the signer so that a compromised API
//! cannot bypass it.
//!
//! The rolling 24-hour totals are kept in memory: a restart forgets them.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use alloy_primitives::{Address, U256};
use serde::Deserialize;

use crate::keystore::validate_id;
use crate::quantity::parse_u256;
use crate::tx::{parse_address, UnsignedTx};

/// The window of the daily limit.
pub const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Why the policy file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read policy file {path}: {source}")]
    Read {
        /// The policy file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("invalid policy file: {0}")]
    Parse(String),
    /// A value in a key's table is invalid.
    #[error("invalid policy for key {key:?}: `{field}` {detail}")]
    Invalid {
        /// The key id.
        key: String,
        /// The field.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
}

/// A policy rule that can refuse a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// The key has no policy table, so it signs nothing.
    NoPolicy,
    /// The chain id is not in the key's `chain_ids`.
    ChainIdNotAllowed,
    /// The value exceeds `max_value_wei`.
    MaxValueExceeded,
    /// The value would take the rolling 24-hour total over `max_value_per_day_wei`.
    DailyLimitExceeded,
    /// The destination is in `deny_to`.
    DestinationDenied,
}

impl Rule {
    /// The rule's name as used in problem details, logs and metrics.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoPolicy => "no_policy",
            Self::ChainIdNotAllowed => "chain_id_not_allowed",
            Self::MaxValueExceeded => "max_value_exceeded",
            Self::DailyLimitExceeded => "daily_limit_exceeded",
            Self::DestinationDenied => "destination_denied",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy refusal: the rule and a sentence for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rule}: {detail}")]
pub struct Refusal {
    /// The rule that refused.
    pub rule: Rule,
    /// What the rule saw.
    pub detail: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    keys: BTreeMap<String, KeyPolicyFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyPolicyFile {
    chain_ids: Vec<u64>,
    max_value_wei: String,
    max_value_per_day_wei: String,
    #[serde(default)]
    deny_to: Vec<String>,
}

/// The policy of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPolicy {
    /// Chains the key may sign for.
    pub chain_ids: BTreeSet<u64>,
    /// Largest value of one transaction, in wei.
    pub max_value_wei: U256,
    /// Largest total value over any rolling 24 hours, in wei.
    pub max_value_per_day_wei: U256,
    /// Destinations the key never sends to.
    pub deny_to: HashSet<Address>,
}

impl KeyPolicy {
    fn from_file(key: &str, file: KeyPolicyFile) -> Result<Self, PolicyError> {
        let invalid = |field: &'static str, detail: String| PolicyError::Invalid {
            key: key.to_owned(),
            field,
            detail,
        };
        validate_id(key).map_err(|e| invalid("keys", e.to_string()))?;
        let max_value_wei =
            parse_u256(&file.max_value_wei).map_err(|e| invalid("max_value_wei", e.to_string()))?;
        let max_value_per_day_wei = parse_u256(&file.max_value_per_day_wei)
            .map_err(|e| invalid("max_value_per_day_wei", e.to_string()))?;
        let deny_to = file
            .deny_to
            .iter()
            .map(|text| parse_address(text).map_err(|e| invalid("deny_to", format!("{text}: {e}"))))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            chain_ids: file.chain_ids.into_iter().collect(),
            max_value_wei,
            max_value_per_day_wei,
            deny_to,
        })
    }
}

/// One signature counted towards a key's daily total.
#[derive(Debug)]
struct Spend {
    id: u64,
    at: Instant,
    value: U256,
}

#[derive(Debug, Default)]
struct Ledger {
    next_id: u64,
    by_key: HashMap<String, VecDeque<Spend>>,
}

/// Every key's policy and the rolling daily totals.
#[derive(Debug)]
pub struct PolicyEngine {
    policies: BTreeMap<String, KeyPolicy>,
    ledger: Mutex<Ledger>,
}

impl PolicyEngine {
    /// Builds an engine from parsed policies.
    #[must_use]
    pub fn new(policies: BTreeMap<String, KeyPolicy>) -> Self {
        Self {
            policies,
            ledger: Mutex::new(Ledger::default()),
        }
    }

    /// Parses a policy file's text.
    ///
    /// # Errors
    ///
    /// [`PolicyError::Parse`] for bad TOML or unknown fields, [`PolicyError::Invalid`] for a
    /// bad key id, quantity or address.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let file: PolicyFile =
            toml::from_str(text).map_err(|e| PolicyError::Parse(e.to_string()))?;
        let policies = file
            .keys
            .into_iter()
            .map(|(key, table)| KeyPolicy::from_file(&key, table).map(|policy| (key, policy)))
            .collect::<Result<_, _>>()?;
        Ok(Self::new(policies))
    }

    /// Reads and parses a policy file.
    ///
    /// # Errors
    ///
    /// [`PolicyError::Read`] when the file cannot be read, else as [`Self::from_toml`].
    pub fn from_file(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// The policy of key `id`, if it has one.
    #[must_use]
    pub fn policy(&self, id: &str) -> Option<&KeyPolicy> {
        self.policies.get(id)
    }

    /// Ids of the keys that have a policy.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.policies.keys().map(String::as_str)
    }

    /// Checks `tx` against key `key`'s policy now; see [`Self::authorize_at`].
    ///
    /// # Errors
    ///
    /// A [`Refusal`] naming the rule that refused.
    pub fn authorize(&self, key: &str, tx: &UnsignedTx) -> Result<Reservation<'_>, Refusal> {
        self.authorize_at(key, tx, Instant::now())
    }

    /// Checks `tx` against key `key`'s policy at time `now` and, if it passes, counts its
    /// value towards the key's rolling daily total. The returned [`Reservation`] takes the
    /// value back out if it is dropped without [`Reservation::commit`] (signing failed).
    ///
    /// # Errors
    ///
    /// A [`Refusal`] naming the first rule that refused, checked in this order: no policy,
    /// chain id, destination, value per transaction, value per day.
    pub fn authorize_at(
        &self,
        key: &str,
        tx: &UnsignedTx,
        now: Instant,
    ) -> Result<Reservation<'_>, Refusal> {
        let refuse = |rule, detail: String| Err(Refusal { rule, detail });
        let Some(policy) = self.policies.get(key) else {
            return refuse(
                Rule::NoPolicy,
                format!("key {key:?} has no policy table, so it signs nothing"),
            );
        };
        let Some(chain_id) = tx.chain_id() else {
            return refuse(
                Rule::ChainIdNotAllowed,
                "the transaction has no chain id".to_owned(),
            );
        };
        if !policy.chain_ids.contains(&chain_id) {
            return refuse(
                Rule::ChainIdNotAllowed,
                format!("chain id {chain_id} is not allowed for key {key:?}"),
            );
        }
        if let Some(to) = tx.to().filter(|to| policy.deny_to.contains(to)) {
            return refuse(
                Rule::DestinationDenied,
                format!(
                    "destination {} is denied for key {key:?}",
                    to.to_checksum(None)
                ),
            );
        }
        let value = tx.value();
        if value > policy.max_value_wei {
            return refuse(
                Rule::MaxValueExceeded,
                format!(
                    "value {value} wei exceeds the per-transaction maximum of {} wei",
                    policy.max_value_wei
                ),
            );
        }

        let mut ledger = self
            .ledger
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = ledger.next_id;
        ledger.next_id = ledger.next_id.wrapping_add(1);
        let spends = ledger.by_key.entry(key.to_owned()).or_default();
        while spends
            .front()
            .is_some_and(|s| now.saturating_duration_since(s.at) >= DAY)
        {
            spends.pop_front();
        }
        let spent = spends
            .iter()
            .fold(U256::ZERO, |sum, s| sum.saturating_add(s.value));
        let total = spent.saturating_add(value);
        if total > policy.max_value_per_day_wei {
            return refuse(
                Rule::DailyLimitExceeded,
                format!(
                    "value {value} wei would bring the rolling 24-hour total to {total} wei, \
                     over the limit of {} wei ({spent} wei already signed)",
                    policy.max_value_per_day_wei
                ),
            );
        }
        spends.push_back(Spend { id, at: now, value });
        Ok(Reservation {
            engine: self,
            key: key.to_owned(),
            id,
            committed: false,
        })
    }

    fn release(&self, key: &str, id: u64) {
        let mut ledger = self
            .ledger
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(spends) = ledger.by_key.get_mut(key) {
            spends.retain(|s| s.id != id);
        }
    }
}

/// A value counted towards a key's daily total, pending the signature.
#[derive(Debug)]
#[must_use = "dropping a reservation without commit() releases it"]
pub struct Reservation<'a> {
    engine: &'a PolicyEngine,
    key: String,
    id: u64,
    committed: bool,
}

impl Reservation<'_> {
    /// Keeps the value in the daily total: the transaction was signed.
    pub fn commit(mut self) {
        self.committed = true;
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.committed {
            self.engine.release(&self.key, self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use alloy_consensus::TxEip1559;
    use alloy_primitives::{address, TxKind};
    use rstest::rstest;

    use super::*;

    const POLICY: &str = r#"
        [keys.hot]
        chain_ids = [1, 11155111]
        max_value_wei = "1000"
        max_value_per_day_wei = "2500"
        deny_to = ["0x000000000000000000000000000000000000dEaD"]

        [keys.cold]
        chain_ids = []
        max_value_wei = "0"
        max_value_per_day_wei = "0"
    "#;

    fn tx(chain_id: u64, to: Address, value: u64) -> UnsignedTx {
        UnsignedTx::Eip1559(TxEip1559 {
            chain_id,
            to: TxKind::Call(to),
            value: U256::from(value),
            ..TxEip1559::default()
        })
    }

    const OK_TO: Address = address!("3535353535353535353535353535353535353535");
    const DEAD: Address = address!("000000000000000000000000000000000000dEaD");

    fn engine() -> PolicyEngine {
        PolicyEngine::from_toml(POLICY).unwrap()
    }

    #[rstest]
    #[case::no_policy("nobody", tx(1, OK_TO, 1), Rule::NoPolicy)]
    #[case::empty_chain_list("cold", tx(1, OK_TO, 0), Rule::ChainIdNotAllowed)]
    #[case::wrong_chain("hot", tx(137, OK_TO, 1), Rule::ChainIdNotAllowed)]
    #[case::over_max("hot", tx(1, OK_TO, 1001), Rule::MaxValueExceeded)]
    #[case::denied("hot", tx(1, DEAD, 1), Rule::DestinationDenied)]
    fn refusals(#[case] key: &str, #[case] tx: UnsignedTx, #[case] rule: Rule) {
        let refusal = engine().authorize(key, &tx).unwrap_err();
        assert_eq!(refusal.rule, rule, "{refusal}");
    }

    #[test]
    fn allowed_at_the_limits() {
        let engine = engine();
        engine
            .authorize("hot", &tx(1, OK_TO, 1000))
            .unwrap()
            .commit();
        engine
            .authorize("hot", &tx(11155111, OK_TO, 0))
            .unwrap()
            .commit();
    }

    #[test]
    fn rolling_daily_limit() {
        let engine = engine();
        let start = Instant::now();
        engine
            .authorize_at("hot", &tx(1, OK_TO, 1000), start)
            .unwrap()
            .commit();
        let later = start + Duration::from_secs(3600);
        engine
            .authorize_at("hot", &tx(1, OK_TO, 1000), later)
            .unwrap()
            .commit();
        let refusal = engine
            .authorize_at("hot", &tx(1, OK_TO, 501), later)
            .unwrap_err();
        assert_eq!(refusal.rule, Rule::DailyLimitExceeded);
        engine
            .authorize_at("hot", &tx(1, OK_TO, 500), later)
            .unwrap()
            .commit();
        // Until 24 hours after the first signature, the total stays at the limit.
        let almost = start + DAY - Duration::from_secs(1);
        assert!(engine
            .authorize_at("hot", &tx(1, OK_TO, 1), almost)
            .is_err());
        // Then the first 1000 no longer count: 1500 + 1000 fits, one more wei does not.
        let next_day = start + DAY;
        engine
            .authorize_at("hot", &tx(1, OK_TO, 1000), next_day)
            .unwrap()
            .commit();
        assert!(engine
            .authorize_at("hot", &tx(1, OK_TO, 1), next_day)
            .is_err());
    }

    #[test]
    fn dropped_reservation_is_released() {
        let engine = engine();
        let now = Instant::now();
        drop(
            engine
                .authorize_at("hot", &tx(1, OK_TO, 1000), now)
                .unwrap(),
        );
        drop(
            engine
                .authorize_at("hot", &tx(1, OK_TO, 1000), now)
                .unwrap(),
        );
        drop(
            engine
                .authorize_at("hot", &tx(1, OK_TO, 1000), now)
                .unwrap(),
        );
        engine
            .authorize_at("hot", &tx(1, OK_TO, 1000), now)
            .unwrap()
            .commit();
        engine
            .authorize_at("hot", &tx(1, OK_TO, 1000), now)
            .unwrap()
            .commit();
        assert!(engine
            .authorize_at("hot", &tx(1, OK_TO, 1000), now)
            .is_err());
    }

    #[rstest]
    #[case::unknown_field(
        "[keys.a]\nchain_ids=[1]\nmax_value_wei=\"1\"\nmax_value_per_day_wei=\"1\"\nmax_gas=\"1\""
    )]
    #[case::number_not_string(
        "[keys.a]\nchain_ids=[1]\nmax_value_wei=1\nmax_value_per_day_wei=\"1\""
    )]
    #[case::hex_value(
        "[keys.a]\nchain_ids=[1]\nmax_value_wei=\"0x1\"\nmax_value_per_day_wei=\"1\""
    )]
    #[case::bad_address("[keys.a]\nchain_ids=[1]\nmax_value_wei=\"1\"\nmax_value_per_day_wei=\"1\"\ndeny_to=[\"0x12\"]")]
    #[case::bad_checksum("[keys.a]\nchain_ids=[1]\nmax_value_wei=\"1\"\nmax_value_per_day_wei=\"1\"\ndeny_to=[\"0x000000000000000000000000000000000000DEad\"]")]
    #[case::missing_limit("[keys.a]\nchain_ids=[1]\nmax_value_wei=\"1\"")]
    #[case::bad_id(
        "[keys.\"a b\"]\nchain_ids=[1]\nmax_value_wei=\"1\"\nmax_value_per_day_wei=\"1\""
    )]
    fn invalid_policy_files(#[case] text: &str) {
        assert!(PolicyEngine::from_toml(text).is_err());
    }
}
