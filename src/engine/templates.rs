//! Built-in templates: chip sets, blind structures (turbo, standard, deep stack,
//! festival main event) and buy-ins a venue starts from.

use super::chips::{BuyIn, Chip, ChipSet, Rake};
use super::structure::Structure;
use super::tournament::Setup;
use super::wizard::assemble;

pub fn standard_chips() -> ChipSet {
    let chip = |value, colour: &str| Chip {
        value,
        colour: colour.into(),
    };
    ChipSet {
        chips: vec![
            chip(25, "green"),
            chip(100, "black"),
            chip(500, "purple"),
            chip(1_000, "yellow"),
            chip(5_000, "orange"),
            chip(25_000, "grey"),
        ],
    }
}

/// Big blinds most rooms use; the small blind is half, a big-blind ante from round 3.
const BIG_BLINDS: [u64; 30] = [
    100, 200, 300, 400, 500, 600, 800, 1_000, 1_200, 1_600, 2_000, 2_400, 3_000, 4_000, 5_000,
    6_000, 8_000, 10_000, 12_000, 16_000, 20_000, 25_000, 30_000, 40_000, 50_000, 60_000, 80_000,
    100_000, 120_000, 160_000,
];

fn structure(first_bb: u64, level_mins: u32, break_every: usize, break_mins: u32) -> Structure {
    let blinds: Vec<(u64, u64, u64)> = BIG_BLINDS
        .iter()
        .filter(|&&bb| bb >= first_bb)
        .enumerate()
        .map(|(i, &bb)| (bb / 2, bb, if i >= 2 { bb } else { 0 }))
        .collect();
    let chips = standard_chips().values();
    assemble(
        &blinds,
        level_mins * 60,
        break_every,
        break_mins * 60,
        &chips,
    )
}

/// `(key, name, structure, starting stack, buy-in cents)`.
pub fn builtin_structures() -> Vec<(&'static str, &'static str, Structure, u64, i64)> {
    vec![
        (
            "turbo",
            "Turbo (10-minute levels)",
            structure(100, 10, 6, 5),
            10_000,
            2_000,
        ),
        (
            "standard",
            "Standard (20-minute levels)",
            structure(100, 20, 4, 10),
            20_000,
            5_000,
        ),
        (
            "deep-stack",
            "Deep stack (30-minute levels)",
            structure(200, 30, 4, 15),
            30_000,
            10_000,
        ),
        (
            "festival-main-event",
            "Festival main event (60-minute levels)",
            structure(200, 60, 2, 20),
            50_000,
            50_000,
        ),
    ]
}

/// A tournament setup from a built-in structure, with the standard chips and a buy-in
/// with 10 % house rake.
pub fn builtin_setup(key: &str, name: &str) -> Option<Setup> {
    let (_, _, structure, stack, amount) = builtin_structures().into_iter().find(|b| b.0 == key)?;
    Some(Setup {
        name: name.to_owned(),
        structure,
        chip_set: standard_chips(),
        buy_in: BuyIn {
            amount_cents: amount,
            starting_chips: stack,
            rake: vec![Rake {
                category: "house".into(),
                amount_cents: amount / 10,
            }],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_valid_and_payable() {
        for (key, _, s, stack, _) in builtin_structures() {
            s.validate().unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(s.first_unpayable(&standard_chips().values()), None, "{key}");
            assert!(stack >= 100 * 50, "{key}");
            assert!(builtin_setup(key, "x").is_some());
        }
    }
}
