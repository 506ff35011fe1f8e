"""The rules that need neither Flask nor a database: statuses, rights, money, the NData query
parser and the domain errors."""
