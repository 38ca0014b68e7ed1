
use super::*;
use crate::attacker::attacker_intervals;
use crate::table::Cube;

fn cube_from(csv: &str, policy: &str) -> Cube {
    crate::table::test_cube(policy, csv)
}

const TWO_BY_TWO: &str = "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.r]\ncodes = [\"a\", \"b\"]\n[dimensions.c]\ncodes = [\"x\", \"y\"]\n";

#[test]
fn a_single_hidden_cell_is_recovered_exactly_from_its_margins() {
    // r=a: x=3, y=7 ; r=b: x=6, y=4. Hiding only (a,x) leaves it computable: 10 - 7.
    let cube = cube_from("r,c,n\na,x,3\na,y,7\nb,x,6\nb,y,4\n", TWO_BY_TWO);
    let mut published: Vec<Option<i64>> = cube.values().iter().map(|&v| Some(v)).collect();
    let ax = cube.cell(&[1, 1]);
    published[ax] = None;
    let iv = attacker_intervals(&cube, &published).unwrap();
    assert_eq!(iv[ax], Some(Interval { lower: 3, upper: Some(3) }));
}

#[test]
fn four_hidden_inner_cells_of_a_two_by_two_move_together_within_the_margins() {
    // Hiding the four inner cells: x_ax + x_ay = 10, x_bx + x_by = 10, x_ax + x_bx = 9, x_ay + x_by = 11.
    // x_ax can range over [0, 9] (x_ay = 10 - x_ax >= 0, x_bx = 9 - x_ax >= 0, x_by = 1 + x_ax).
    let cube = cube_from("r,c,n\na,x,3\na,y,7\nb,x,6\nb,y,4\n", TWO_BY_TWO);
    let mut published: Vec<Option<i64>> = cube.values().iter().map(|&v| Some(v)).collect();
    for coords in [[1, 1], [1, 2], [2, 1], [2, 2]] {
        published[cube.cell(&coords)] = None;
    }
    let iv = attacker_intervals(&cube, &published).unwrap();
    assert_eq!(iv[cube.cell(&[1, 1])], Some(Interval { lower: 0, upper: Some(9) }));
    assert_eq!(iv[cube.cell(&[2, 2])], Some(Interval { lower: 1, upper: Some(10) }));
    assert_eq!(iv[cube.cell(&[0, 0])], None, "published cells get no interval");
}

#[test]
fn a_hidden_grand_total_with_hidden_margins_is_unbounded() {
    let cube = cube_from("r,c,n\na,x,3\na,y,7\nb,x,6\nb,y,4\n", TWO_BY_TWO);
    let published: Vec<Option<i64>> = vec![None; cube.len()];
    let iv = attacker_intervals(&cube, &published).unwrap();
    assert!(iv.iter().all(|i| *i == Some(Interval { lower: 0, upper: None })));
}

#[test]
fn published_cells_that_do_not_add_up_are_an_error() {
    let cube = cube_from("r,c,n\na,x,3\na,y,7\nb,x,6\nb,y,4\n", TWO_BY_TWO);
    let mut published: Vec<Option<i64>> = cube.values().iter().map(|&v| Some(v)).collect();
    published[0] = Some(21);
    let e = attacker_intervals(&cube, &published).unwrap_err();
    assert_eq!(e.kind, crate::ErrorKind::Data);
    assert!(e.message.contains("do not add up"), "{}", e.message);
}
