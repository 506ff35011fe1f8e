"""Amounts in a currency's minor unit. Decimals throughout, never floats.

Rounding: half away from zero (ROUND_HALF_UP), applied once per item total and once per order
total component, to the minor unit of the order's currency.
"""
from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 codes this product accepts, with their minor units.
MINOR_UNITS = {
    "AED": 2, "AUD": 2, "BGN": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2,
    "CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2,
    "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "MXN": 2, "MYR": 2, "NOK": 2, "NZD": 2,
    "OMR": 3, "PHP": 2, "PLN": 2, "RON": 2, "RSD": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2,
    "TND": 3, "TRY": 2, "TWD": 2, "UAH": 2, "USD": 2, "VND": 0, "ZAR": 2,
}


# The columns amounts and quantities are stored in (app.models.columns): NUMERIC(18, 4) and
# NUMERIC(14, 3). A value a request asks to store is refused unless it stays below the limit of
# its column, so what is read back is always what was written.
AMOUNT_DIGITS, AMOUNT_DECIMALS = 18, 4
QUANTITY_DIGITS, QUANTITY_DECIMALS = 14, 3
LIMIT = Decimal(10) ** (AMOUNT_DIGITS - AMOUNT_DECIMALS)
QUANTITY_LIMIT = Decimal(10) ** (QUANTITY_DIGITS - QUANTITY_DECIMALS)
# What one ticket or basket line may ask for, with at most QUANTITY_DECIMALS decimals.
LINE_QUANTITY_LIMIT = Decimal(10) ** 9


def is_known_currency(code) -> bool:
    return isinstance(code, str) and code in MINOR_UNITS


def quantize(amount: Decimal, currency: str) -> Decimal:
    exponent = Decimal(1).scaleb(-MINOR_UNITS[currency])
    return Decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP)
