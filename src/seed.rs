//! Demo data for `canasta seed`: three sellers, a dozen products in several
//! categories (50 units each), a current exchange rate and a 2% service
//! fee, plus ready-to-use tokens. Uses fixed ids and the normal services, so running it twice adds nothing.

use std::fmt::Write;
use std::str::FromStr;
use std::time::Duration;

use diesel::PgConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::auth::{JwtKeys, Principal, Role};
use crate::error::{AppError, ErrorCode};
use crate::{db, products, rates, sellers};

/// The demo customer's user id.
pub const CUSTOMER_ID: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0c01);
/// The demo admin's user id.
pub const ADMIN_ID: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0a01);
/// The demo seller staff's user id.
pub const SELLER_USER_ID: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_05e1);

const SELLERS: [(u128, &str); 3] = [
    (
        0x0190_0000_0000_7000_8000_0000_0000_5e01,
        "Bodegón La Esquina",
    ),
    (0x0190_0000_0000_7000_8000_0000_0000_5e02, "TecnoCaracas"),
    (0x0190_0000_0000_7000_8000_0000_0000_5e03, "Casa Margarita"),
];

/// (seller index, sku, name, category, price USD, weight kg)
const PRODUCTS: [(usize, &str, &str, &str, &str, &str); 12] = [
    (
        0,
        "HARINA-PAN-1KG",
        "Harina P.A.N. 1 kg",
        "groceries",
        "1.25",
        "1.000",
    ),
    (
        0,
        "CAFE-FAMA-500G",
        "Café Fama de América 500 g",
        "groceries",
        "4.80",
        "0.500",
    ),
    (
        0,
        "ACEITE-VATEL-1L",
        "Aceite Vatel 1 L",
        "groceries",
        "3.10",
        "0.920",
    ),
    (
        0,
        "QUESO-LLANERO-1KG",
        "Queso llanero 1 kg",
        "groceries",
        "6.50",
        "1.000",
    ),
    (
        1,
        "AUDIF-BT-X1",
        "Audífonos Bluetooth X1",
        "electronics",
        "19.99",
        "0.200",
    ),
    (
        1,
        "CARGADOR-USBC-20W",
        "Cargador USB-C 20 W",
        "electronics",
        "8.75",
        "0.100",
    ),
    (
        1,
        "POWERBANK-10K",
        "Power bank 10000 mAh",
        "electronics",
        "15.00",
        "0.250",
    ),
    (
        1,
        "BOMBILLO-LED-9W",
        "Bombillo LED 9 W recargable",
        "home",
        "3.40",
        "0.150",
    ),
    (
        2,
        "CAFETERA-6T",
        "Cafetera de aluminio 6 tazas",
        "home",
        "12.00",
        "0.600",
    ),
    (
        2,
        "SABANAS-MAT",
        "Juego de sábanas matrimonial",
        "home",
        "22.50",
        "1.200",
    ),
    (
        2,
        "CHINELAS-PLAYA",
        "Chinelas de playa",
        "fashion",
        "5.99",
        "0.300",
    ),
    (
        2,
        "FRANELA-ALG-M",
        "Franela de algodón talla M",
        "fashion",
        "7.50",
        "0.250",
    ),
];

/// The demo seller id of the first seller (tokens printed by seed act for it).
pub fn demo_seller_id() -> Uuid {
    Uuid::from_u128(SELLERS[0].0)
}

fn already(err: &AppError, code: ErrorCode) -> bool {
    matches!(err, AppError::Conflict { code: c, .. } if *c == code)
}

fn dec(s: &str) -> Decimal {
    // The table above holds literal decimals only.
    Decimal::from_str(s).unwrap_or_default()
}

/// Loads the demo data and returns a report with tokens.
pub fn run(conn: &mut PgConnection, keys: &JwtKeys) -> Result<String, Box<dyn std::error::Error>> {
    db::migrate(conn).map_err(|e| format!("migration failed: {e:?}"))?;
    let admin = Principal {
        user_id: ADMIN_ID,
        roles: [Role::Admin].into(),
        seller_id: None,
    };
    let (mut sellers_added, mut products_added) = (0, 0);
    for (id, name) in SELLERS {
        let new = sellers::service::NewSeller {
            id: Uuid::from_u128(id).into(),
            display_name: name.into(),
            active: true,
        };
        match sellers::service::create_seller(conn, &admin, new) {
            Ok(_) => sellers_added += 1,
            Err(e) if already(&e, ErrorCode::DuplicateSeller) => {}
            Err(e) => return Err(format!("seeding sellers: {e:?}").into()),
        }
    }
    for (seller, sku, name, category, price, weight) in PRODUCTS {
        let new = products::service::NewProduct {
            seller_id: Some(Uuid::from_u128(SELLERS[seller].0).into()),
            sku: sku.into(),
            name: name.into(),
            description: format!("{name}. Producto de demostración."),
            category: category.into(),
            image_url: None,
            price_usd: dec(price),
            weight_kg: Some(dec(weight)),
            max_per_order: 20,
            active: true,
        };
        let seller_id = Uuid::from_u128(SELLERS[seller].0);
        let product = match products::service::create_product(conn, &admin, new) {
            Ok(product) => {
                products_added += 1;
                product
            }
            Err(e) if already(&e, ErrorCode::DuplicateSku) => {
                products::service::find_by_sku(conn, seller_id.into(), sku)
                    .map_err(|e| format!("seeding products: {e:?}"))?
                    .ok_or("a seeded product vanished")?
            }
            Err(e) => return Err(format!("seeding products: {e:?}").into()),
        };
        // Demo products get 50 units once; a product already holding units is left alone.
        let stock = crate::inventory::service::stock_of(conn, &[product.id])
            .map_err(|e| format!("{e:?}"))?;
        if stock.get(&product.id).is_none_or(|s| s.on_hand == 0) {
            crate::inventory::service::change_on_hand(
                conn,
                &crate::auth::Actor::system(),
                product.id,
                50,
                crate::inventory::MovementReason::Restock,
                None,
                Some("seed".into()),
                "demo stock".into(),
            )
            .map_err(|e| format!("seeding stock: {e:?}"))?;
        }
    }
    let mut rate_note = "kept the current rate".to_string();
    if rates::service::current_rate(conn)
        .map_err(|e| format!("{e:?}"))?
        .is_none()
    {
        let new = rates::service::NewRate {
            rate: dec("36.50"),
            effective_at: None,
            source: "seed".into(),
        };
        rates::service::post_rate(conn, &admin, new)
            .map_err(|e| format!("seeding the rate: {e:?}"))?;
        rate_note = "added a rate of 36.50 VES per USD".into();
    }
    let fee = crate::fees::service::NewRule {
        code: "service_fee".into(),
        name: "Tarifa de servicio".into(),
        kind: crate::fees::FeeKind::Percent,
        amount: dec("2"),
        min_subtotal_usd: None,
        active: true,
    };
    match crate::fees::service::create_rule(conn, &admin, fee) {
        Ok(_) | Err(AppError::Conflict { .. }) => {}
        Err(e) => return Err(format!("seeding the fee rule: {e:?}").into()),
    }
    crate::payments::service::seed_defaults(conn)
        .map_err(|e| format!("seeding payment methods: {e:?}"))?;
    seed_delivery(conn, &admin)?;
    let day = Duration::from_secs(86_400);
    let customer = keys.mint(CUSTOMER_ID, &[Role::Customer], None, day)?;
    let seller = keys.mint(
        SELLER_USER_ID,
        &[Role::Seller],
        Some(demo_seller_id().into()),
        day,
    )?;
    let admin_token = keys.mint(ADMIN_ID, &[Role::Admin], None, day)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# seed: {sellers_added} sellers and {products_added} products added ({} and {} exist); {rate_note}",
        SELLERS.len(),
        PRODUCTS.len()
    );
    let _ = writeln!(
        out,
        "# demo tokens, valid for 24h (source this file in a shell)"
    );
    let _ = writeln!(out, "CUSTOMER_TOKEN={customer}");
    let _ = writeln!(out, "SELLER_TOKEN={seller}");
    let _ = writeln!(out, "ADMIN_TOKEN={admin_token}");
    let _ = writeln!(out, "SELLER_ID={}", demo_seller_id());
    Ok(out)
}

/// Gives each demo seller a pickup option and a national courier, once.
fn seed_delivery(
    conn: &mut PgConnection,
    admin: &Principal,
) -> Result<(), Box<dyn std::error::Error>> {
    use crate::delivery::{DeliveryKind, DeliveryOptionRow, service};
    for (id, _) in SELLERS {
        let seller_id = Uuid::from_u128(id);
        if !service::list_for_seller(conn, seller_id.into())
            .map_err(|e| format!("{e:?}"))?
            .is_empty()
        {
            continue;
        }
        let now = crate::db::now();
        for (kind, name, carrier, base, per_kg, min, max) in [
            (
                DeliveryKind::Pickup,
                "Retiro en tienda",
                "",
                "0.00",
                "0.00",
                0,
                0,
            ),
            (
                DeliveryKind::CourierDoor,
                "MRW a domicilio",
                "MRW",
                "4.00",
                "0.80",
                2,
                5,
            ),
        ] {
            let row = DeliveryOptionRow {
                id: Uuid::now_v7(),
                seller_id: seller_id.into(),
                kind,
                name: name.into(),
                carrier: carrier.into(),
                base_cost_usd: dec(base),
                per_kg_usd: dec(per_kg),
                free_above_usd: Some(dec("60.00")),
                states: vec![],
                municipalities: vec![],
                min_days: min,
                max_days: max,
                active: true,
                created_at: now,
                updated_at: now,
            };
            service::create(conn, admin, row)
                .map_err(|e| format!("seeding delivery options: {e:?}"))?;
        }
    }
    Ok(())
}
