//! Which scheme and cost parameters new password hashes use, and the limits on them.

use std::fmt;
use std::str::FromStr;

use crate::CryptoError;

/// Largest argon2 memory cost accepted, in KiB (1 GiB), for configuration and stored hashes.
pub(crate) const MAX_ARGON2_M_COST_KIB: u32 = 1_048_576;
/// Default cap on the argon2 memory a stored hash may ask for, in KiB (64 MiB).
pub(crate) const DEFAULT_MAX_STORED_M_COST_KIB: u32 = 65_536;
/// Largest argon2 time cost (passes) accepted, for configuration and stored hashes.
pub(crate) const MAX_ARGON2_T_COST: u32 = 20;
/// Smallest bcrypt cost the algorithm defines.
pub(crate) const MIN_BCRYPT_COST: u32 = 4;
/// Largest bcrypt cost accepted, for configuration and stored hashes.
pub(crate) const MAX_BCRYPT_COST: u32 = 16;

/// The scheme new hashes are made with. Stored hashes of either scheme always verify.
///
/// ```
/// use auth_crypto::HashScheme;
///
/// assert_eq!(HashScheme::default(), HashScheme::Argon2id);
/// assert_eq!("bcrypt".parse::<HashScheme>().unwrap(), HashScheme::Bcrypt);
/// assert_eq!(HashScheme::Argon2id.as_str(), "argon2id");
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashScheme {
    /// Argon2id PHC strings (`$argon2id$v=19$…`), the recommended scheme.
    #[default]
    Argon2id,
    /// bcrypt (`$2b$…`), for a database shared with a service that only knows bcrypt.
    /// Passwords over 72 bytes cannot be hashed with it.
    Bcrypt,
}

impl HashScheme {
    /// The configuration name: `argon2id` or `bcrypt`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Argon2id => "argon2id",
            Self::Bcrypt => "bcrypt",
        }
    }
}

impl fmt::Display for HashScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HashScheme {
    type Err = CryptoError;

    /// Parses `argon2id` or `bcrypt`, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("argon2id") {
            Ok(Self::Argon2id)
        } else if s.eq_ignore_ascii_case("bcrypt") {
            Ok(Self::Bcrypt)
        } else {
            Err(CryptoError::InvalidConfig(format!(
                "unknown password hash scheme {s:?}; expected argon2id or bcrypt"
            )))
        }
    }
}

/// Argon2id cost parameters for new hashes.
///
/// The default is OWASP's recommendation: 19 MiB of memory, 2 passes, 1 lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Argon2Params {
    /// Memory in KiB; at least `8 * p_cost` and at most 1 GiB (1 048 576 KiB).
    pub m_cost_kib: u32,
    /// Passes over memory; 1 to 20.
    pub t_cost: u32,
    /// Lanes (degree of parallelism); at least 1.
    pub p_cost: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self {
            m_cost_kib: 19_456,
            t_cost: 2,
            p_cost: 1,
        }
    }
}

impl Argon2Params {
    /// The equivalent parameters of the argon2 crate.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidConfig`] when the parameters are out of range.
    pub(crate) fn to_argon2(self) -> Result<argon2::Params, CryptoError> {
        if self.m_cost_kib > MAX_ARGON2_M_COST_KIB || self.t_cost > MAX_ARGON2_T_COST {
            return Err(CryptoError::InvalidConfig(format!(
                "argon2 m_cost_kib must be at most {MAX_ARGON2_M_COST_KIB} \
                 and t_cost at most {MAX_ARGON2_T_COST}"
            )));
        }
        argon2::Params::new(self.m_cost_kib, self.t_cost, self.p_cost, None)
            .map_err(|e| CryptoError::InvalidConfig(format!("argon2 parameters: {e}")))
    }

    /// How many 1 KiB blocks a hash with these parameters works in (`m_cost_kib` rounded
    /// down to a multiple of `4 × p_cost`).
    pub(crate) fn block_count(self) -> usize {
        self.to_argon2()
            .map_or(self.m_cost_kib as usize, |params| params.block_count())
    }
}

/// How [`PasswordHasher`](crate::PasswordHasher) makes new hashes.
///
/// ```
/// use auth_crypto::{HashScheme, PasswordConfig};
///
/// let config = PasswordConfig::default();
/// assert_eq!(config.scheme, HashScheme::Argon2id);
/// assert_eq!(config.argon2.m_cost_kib, 19_456);
/// assert_eq!(config.bcrypt_cost, 12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PasswordConfig {
    /// The scheme of new hashes.
    pub scheme: HashScheme,
    /// Argon2id parameters, used when `scheme` is [`HashScheme::Argon2id`].
    pub argon2: Argon2Params,
    /// bcrypt cost (4 to 16), used when `scheme` is [`HashScheme::Bcrypt`].
    pub bcrypt_cost: u32,
    /// Largest argon2 memory, in KiB, a *stored* hash may ask for (default 65 536, 64 MiB; at
    /// least `argon2.m_cost_kib`, at most 1 GiB). A stored hash over it is refused as
    /// [`CryptoError::HostileHash`] before any hashing, so a planted hash cannot make one
    /// verification allocate more than this.
    pub max_stored_m_cost_kib: u32,
}

impl Default for PasswordConfig {
    /// Argon2id with OWASP's parameters; bcrypt cost 12 should bcrypt be chosen.
    fn default() -> Self {
        Self {
            scheme: HashScheme::Argon2id,
            argon2: Argon2Params::default(),
            bcrypt_cost: 12,
            max_stored_m_cost_kib: DEFAULT_MAX_STORED_M_COST_KIB,
        }
    }
}

impl PasswordConfig {
    /// **Tests only**: the cheapest parameters the algorithms allow (argon2id m = 8 KiB, t = 1,
    /// p = 1; bcrypt cost 4), so a test can hash in microseconds.
    ///
    /// This is the one place such parameters live. Never use it in production: hashes made with
    /// it fall to brute force. A production hasher flags them with `needs_rehash`.
    pub fn for_tests() -> Self {
        Self {
            scheme: HashScheme::Argon2id,
            argon2: Argon2Params {
                m_cost_kib: 8,
                t_cost: 1,
                p_cost: 1,
            },
            bcrypt_cost: MIN_BCRYPT_COST,
            max_stored_m_cost_kib: DEFAULT_MAX_STORED_M_COST_KIB,
        }
    }

    /// Checks every parameter, whichever scheme is chosen.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidConfig`] naming the parameter out of range.
    pub(crate) fn validate(&self) -> Result<(), CryptoError> {
        self.argon2.to_argon2()?;
        if !(self.argon2.m_cost_kib..=MAX_ARGON2_M_COST_KIB).contains(&self.max_stored_m_cost_kib) {
            return Err(CryptoError::InvalidConfig(format!(
                "the cap on stored argon2 memory must be {} to {MAX_ARGON2_M_COST_KIB} KiB, got {}",
                self.argon2.m_cost_kib, self.max_stored_m_cost_kib
            )));
        }
        if !(MIN_BCRYPT_COST..=MAX_BCRYPT_COST).contains(&self.bcrypt_cost) {
            return Err(CryptoError::InvalidConfig(format!(
                "bcrypt cost must be {MIN_BCRYPT_COST} to {MAX_BCRYPT_COST}, got {}",
                self.bcrypt_cost
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Argon2Params, HashScheme, PasswordConfig};
    use crate::CryptoError;

    #[test]
    fn default_and_test_configs_are_valid() {
        PasswordConfig::default().validate().unwrap();
        PasswordConfig::for_tests().validate().unwrap();
    }

    #[test]
    fn out_of_range_parameters_are_refused() {
        let bad_argon2 = [
            (7, 1, 1),
            (15, 1, 2),
            (8, 0, 1),
            (8, 1, 0),
            (1_048_577, 1, 1),
            (8, 21, 1),
        ];
        for (m_cost_kib, t_cost, p_cost) in bad_argon2 {
            let config = PasswordConfig {
                argon2: Argon2Params {
                    m_cost_kib,
                    t_cost,
                    p_cost,
                },
                ..PasswordConfig::default()
            };
            let err = config.validate().unwrap_err();
            assert!(matches!(err, CryptoError::InvalidConfig(_)), "{config:?}");
        }
        for bcrypt_cost in [0, 3, 17, 31] {
            let config = PasswordConfig {
                bcrypt_cost,
                ..PasswordConfig::default()
            };
            assert!(matches!(
                config.validate(),
                Err(CryptoError::InvalidConfig(_))
            ));
        }
    }

    #[test]
    fn the_largest_allowed_parameters_are_valid() {
        let config = PasswordConfig {
            argon2: Argon2Params {
                m_cost_kib: 1_048_576,
                t_cost: 20,
                p_cost: 4,
            },
            bcrypt_cost: 16,
            max_stored_m_cost_kib: 1_048_576,
            ..PasswordConfig::default()
        };
        config.validate().unwrap();
    }

    #[test]
    fn hash_scheme_parses_its_names_and_nothing_else() {
        assert_eq!(
            "argon2id".parse::<HashScheme>().unwrap(),
            HashScheme::Argon2id
        );
        assert_eq!("BCRYPT".parse::<HashScheme>().unwrap(), HashScheme::Bcrypt);
        for bad in ["", "argon2", "argon2i", "scrypt"] {
            assert!(matches!(
                bad.parse::<HashScheme>(),
                Err(CryptoError::InvalidConfig(_))
            ));
        }
        assert_eq!(HashScheme::Bcrypt.to_string(), "bcrypt");
    }
}
