//! A colour per person, readable and distinct, that stays hers: given once, when she first enters
//! a model, from a palette of colours far apart, and carried from each model to the one that
//! replaces it. Adding someone gives the newcomer the free colour farthest from those in use;
//! nobody else's changes.

use std::collections::HashMap;

/// Distinct colours (RGB) for boxes on video, most distinct first.
pub const PALETTE: [[u8; 3]; 12] = [
    [230, 25, 75],
    [60, 180, 75],
    [255, 225, 25],
    [0, 130, 200],
    [245, 130, 48],
    [145, 30, 180],
    [70, 240, 240],
    [240, 50, 230],
    [210, 245, 60],
    [250, 190, 212],
    [0, 128, 128],
    [170, 110, 40],
];

/// Faces the model cannot vouch for.
pub const UNKNOWN: [u8; 3] = [160, 160, 160];

/// Colours for `classes`: each keeps its colour in `previous` (name → colour, from the model
/// being replaced); the others get, in class order, the unused palette colour farthest from all
/// those taken, then colours from their names once the palette is used up.
pub fn assign(classes: &[String], previous: &HashMap<String, [u8; 3]>) -> Vec<[u8; 3]> {
    let mut colours: Vec<Option<[u8; 3]>> =
        classes.iter().map(|c| previous.get(c).copied()).collect();
    for i in 0..classes.len() {
        if colours[i].is_some() {
            continue;
        }
        let taken: Vec<[u8; 3]> = colours.iter().flatten().copied().collect();
        let free = PALETTE
            .iter()
            .filter(|p| !taken.contains(p))
            .max_by_key(|p| {
                taken
                    .iter()
                    .map(|t| distance(**p, *t))
                    .min()
                    .unwrap_or(u32::MAX)
            });
        colours[i] = Some(match free {
            // With nothing taken every colour ties; the first person gets the palette's first.
            // (Later ties go to the last of the equally far colours: max_by_key keeps the last.)
            Some(_) if taken.is_empty() => PALETTE[0],
            Some(&colour) => colour,
            None => from_name(&classes[i]),
        });
    }
    colours.into_iter().map(|c| c.expect("assigned")).collect()
}

/// The colours of a model of an earlier build (none recorded): the palette in class order.
pub fn in_class_order(count: usize) -> Vec<[u8; 3]> {
    (0..count)
        .map(|i| {
            PALETTE
                .get(i)
                .copied()
                .unwrap_or_else(|| from_name(&i.to_string()))
        })
        .collect()
}

/// Squared distance, weighted as the eye sees differences (red 2, green 4, blue 3).
fn distance(a: [u8; 3], b: [u8; 3]) -> u32 {
    let d = |i: usize| (a[i] as i32 - b[i] as i32).pow(2) as u32;
    2 * d(0) + 4 * d(1) + 3 * d(2)
}

/// A bright colour from a name's hash, beyond the palette.
fn from_name(name: &str) -> [u8; 3] {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in name.bytes() {
        hash = (hash ^ byte as u32).wrapping_mul(0x0100_0193);
    }
    let hash = hash.wrapping_mul(2_654_435_761);
    [
        128 + (hash & 0x7f) as u8,
        128 + ((hash >> 8) & 0x7f) as u8,
        128 + ((hash >> 16) & 0x7f) as u8,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &str) -> Vec<String> {
        list.split(' ').map(String::from).collect()
    }

    #[test]
    fn a_person_keeps_her_colour_when_someone_is_added() {
        let twice = names("Chaeyoung Dahyun Jeongyeon Jihyo Mina Momo Nayeon Sana Tzuyu");
        let first = assign(&twice, &HashMap::new());
        // Nine different palette colours.
        let mut distinct = first.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 9);
        assert!(first.iter().all(|c| PALETTE.contains(c)));
        // Karina sorts in between: everyone else keeps hers, Karina gets a free one.
        let previous: HashMap<String, [u8; 3]> =
            twice.iter().cloned().zip(first.iter().copied()).collect();
        let with_karina =
            names("Chaeyoung Dahyun Jeongyeon Jihyo Karina Mina Momo Nayeon Sana Tzuyu");
        let second = assign(&with_karina, &previous);
        for (name, colour) in with_karina.iter().zip(&second) {
            match previous.get(name) {
                Some(before) => assert_eq!(colour, before, "{name}"),
                None => assert!(!first.contains(colour), "Karina's is free"),
            }
        }
        // Beyond the palette, still a colour each.
        let many: Vec<String> = (0..20).map(|i| format!("p{i}")).collect();
        assert_eq!(assign(&many, &HashMap::new()).len(), 20);
    }
}
