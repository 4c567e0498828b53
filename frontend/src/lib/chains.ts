/** EVM chain ids as people know them; an unknown id is shown as itself. */
const CHAIN_NAMES: Readonly<Record<number, string>> = {
  1: "Ethereum",
  10: "OP Mainnet",
  8453: "Base",
  17000: "Holesky testnet",
  42161: "Arbitrum One",
  11155111: "Sepolia testnet",
};

export function chainName(chainId: number): string {
  const name = CHAIN_NAMES[chainId];
  return name === undefined ? `Chain ${chainId}` : `${name} (${chainId})`;
}
