import type { Balance } from "../../../api/generated/model";
import { Card, tableClass } from "../../../components/ui";
import { formatDecimal } from "../../../lib/decimal";

/** The trader's balances in a market's two assets; the `balances` channel keeps the query fresh. */
export function BalancesPanel({ balances, assets }: { balances: Balance[]; assets: string[] }) {
  return (
    <Card title="Your balances">
      <table className={tableClass} aria-label="Your balances">
        <thead>
          <tr>
            <th>Asset</th>
            <th className="num">Available</th>
            <th className="num">Held</th>
          </tr>
        </thead>
        <tbody>
          {assets.map((asset) => {
            const balance = balances.find((b) => b.asset === asset);
            return (
              <tr key={asset}>
                <th scope="row">{asset}</th>
                <td className="num">{formatDecimal(balance?.available ?? "0")}</td>
                <td className="num">{formatDecimal(balance?.held ?? "0")}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Card>
  );
}
