"""The rules that need neither Flask nor a database: statuses, rights, money, the NData query
parser, the domain errors and the encryption of stored secrets."""
