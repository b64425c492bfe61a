//! Chip sets and buy-in configurations: the building blocks a tournament copies.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Chip {
    pub value: u64,
    /// A colour name or `#rrggbb`, as printed on the chip.
    pub colour: String,
}

/// The denominations in play, smallest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChipSet {
    pub chips: Vec<Chip>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rake {
    /// house, staff, league…
    pub category: String,
    pub amount_cents: i64,
}

/// What a player pays and gets. (The money rules come with the money issue.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyIn {
    /// The whole price, rake included, in cents.
    pub amount_cents: i64,
    pub starting_chips: u64,
    #[serde(default)]
    pub rake: Vec<Rake>,
}

const MAX_RAKES: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChipError {
    #[error("a chip set needs at least one chip, and at most 20")]
    Count,
    #[error("chip values must be positive, distinct and in increasing order")]
    Order,
    #[error("a chip colour is 1 to 20 characters")]
    Colour,
    #[error("amounts cannot be negative, and the rake cannot exceed the buy-in")]
    Money,
    #[error("a buy-in gives at least one chip")]
    StartingChips,
    #[error("a rake category is 1 to 40 characters")]
    Category,
    #[error("at most {MAX_RAKES} rake categories")]
    Rakes,
}

impl ChipSet {
    pub fn validate(&self) -> Result<(), ChipError> {
        if self.chips.is_empty() || self.chips.len() > 20 {
            return Err(ChipError::Count);
        }
        if self.chips[0].value == 0 || self.chips.windows(2).any(|w| w[0].value >= w[1].value) {
            return Err(ChipError::Order);
        }
        if self
            .chips
            .iter()
            .any(|c| c.colour.trim().is_empty() || c.colour.chars().count() > 20)
        {
            return Err(ChipError::Colour);
        }
        Ok(())
    }

    pub fn values(&self) -> Vec<u64> {
        self.chips.iter().map(|c| c.value).collect()
    }
}

impl BuyIn {
    pub fn validate(&self) -> Result<(), ChipError> {
        if self.rake.len() > MAX_RAKES {
            return Err(ChipError::Rakes);
        }
        let rake = self.rake.iter().try_fold(0i64, |sum, r| {
            (r.amount_cents >= 0)
                .then(|| sum.checked_add(r.amount_cents))
                .flatten()
        });
        if self.amount_cents < 0 || rake.is_none_or(|rake| rake > self.amount_cents) {
            return Err(ChipError::Money);
        }
        if self.starting_chips == 0 {
            return Err(ChipError::StartingChips);
        }
        if self
            .rake
            .iter()
            .any(|r| r.category.trim().is_empty() || r.category.chars().count() > 40)
        {
            return Err(ChipError::Category);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(values: &[u64]) -> ChipSet {
        ChipSet {
            chips: values
                .iter()
                .map(|&value| Chip {
                    value,
                    colour: "red".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn chip_sets_are_increasing_and_positive() {
        assert!(set(&[25, 100, 500]).validate().is_ok());
        assert_eq!(set(&[]).validate(), Err(ChipError::Count));
        assert_eq!(set(&[100, 25]).validate(), Err(ChipError::Order));
        assert_eq!(set(&[0, 25]).validate(), Err(ChipError::Order));
        assert_eq!(set(&[25, 25]).validate(), Err(ChipError::Order));
    }

    #[test]
    fn rake_fits_in_the_buy_in() {
        let buy_in = |amount, rake| BuyIn {
            amount_cents: amount,
            starting_chips: 20_000,
            rake: vec![Rake {
                category: "house".into(),
                amount_cents: rake,
            }],
        };
        assert!(buy_in(11_000, 1_000).validate().is_ok());
        assert_eq!(buy_in(1_000, 1_001).validate(), Err(ChipError::Money));
        assert_eq!(buy_in(1_000, -1).validate(), Err(ChipError::Money));
        let mut huge = buy_in(1_000, i64::MAX);
        huge.rake.push(huge.rake[0].clone());
        assert_eq!(huge.validate(), Err(ChipError::Money), "no overflow");
    }
}
