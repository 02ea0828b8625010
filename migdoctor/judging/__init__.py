"""Pure helpers the checks share: what the destination advertises, where its addresses are,
which link a route leaves by. Functions of facts only; nothing here touches a host."""
