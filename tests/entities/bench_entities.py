"""Speed of entity extraction on ordinary posts without entities (run: python bench_entities.py).

Not a test: prints µs/post for the whole registry and for each extractor. The
pipeline budget is about 15 µs/post for all extractors on a ~100-character post.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from qinglang.entities import EXTRACTORS, extract_entities
from qinglang.entities.base import digit_profile
from qinglang.text.offsets import NormalizedText

#: Ordinary posts, about 100 characters, no entities: chatter, news, notices, English.
PLAIN = [
    "周末和朋友去爬山，天气特别好，山顶的风景太美了！下次还要再来，推荐大家秋天来这里，人不多，"
    "空气清新，拍照也很出片。山脚下有家农家乐，饭菜很香，老板特别热情。",
    "刚看完这部电影，剧情一般，但是特效做得还不错，演员的表演也挺到位的。总体来说值得一看，"
    "就是结尾有点仓促，感觉像是赶着收尾。配乐倒是很加分，推荐去电影院看。",
    "孩子今年上三年级了，数学成绩一直不太好，有没有家长分享一下辅导经验？每天写作业都要写到很晚，"
    "我们做家长的也很着急，不知道是不是方法不对，求支招。",
    "今天终于把阳台的花都换了盆，绣球开得特别好，月季也冒了新芽。养花真的很治愈，"
    "下班回家看到它们心情就好了。有没有人知道多肉夏天怎么浇水？",
    "国家统计局今日发布数据显示，2024年10月份全国居民消费价格同比上涨，环比有所下降。"
    "其中城市和农村均有上涨，食品价格总体平稳，能源价格小幅波动。",
    "关于开展年度职工体检工作的通知：请各部门于12月1日至12月20日期间，按照安排到指定医院进行体检，"
    "体检前一天晚上请勿饮酒，当天早上需空腹。",
    "I just finished reading a great book about habits. The main idea is that small changes, "
    "repeated every day, compound over time into big results.",
    "Traffic on the ring road was terrible this morning, it took me almost an hour to get to "
    "the office. Thinking about taking the train next week instead.",
    "今晚的球赛太精彩了，下半场连进两球逆转，现场气氛爆棚！主教练的换人调整非常关键，"
    "替补上场的小将表现亮眼，期待下一轮的比赛。",
    "学校图书馆周六上午9点到下午5点开放，寒假期间闭馆，请同学们合理安排借阅时间，"
    "逾期未还的图书请尽快归还，谢谢配合。",
]


def _bench(fn: Callable[[NormalizedText], object], nts: list[NormalizedText],
           rounds: int = 9, loops: int = 300) -> float:
    """Best-of-``rounds`` µs per post, in CPU time (the machine may be shared)."""
    best = float("inf")
    for _ in range(rounds):
        t = time.process_time()
        for _ in range(loops):
            for nt in nts:
                fn(nt)
        best = min(best, (time.process_time() - t) / (loops * len(nts)) * 1e6)
    return best


def main() -> None:
    nts = [NormalizedText.identity(p.lower()) for p in PLAIN]
    avg = sum(len(nt.text) for nt in nts) / len(nts)
    assert not any(extract_entities(nt, "text") for nt in nts), "benchmark posts must be plain"
    total = _bench(lambda nt: extract_entities(nt, "text"), nts)
    print(f"{len(nts)} plain posts, {avg:.0f} chars on average")
    print(f"all extractors: {total:.2f} µs/post")

    def profile(nt: NormalizedText) -> object:
        return digit_profile(nt.text)

    # digit_profile caches only the last text, so every call below recomputes it:
    # measure that once and report each extractor net of it
    base = _bench(profile, nts)
    print(f"  {'digit profile':<18} {base:.2f} µs (shared, once per text)")
    for x in EXTRACTORS:
        def run(nt: NormalizedText, f: Callable[[NormalizedText], object] = x.extract) -> object:
            digit_profile(nt.text)
            return f(nt)

        print(f"  {x.name:<18} {max(0.0, _bench(run, nts) - base):.2f} µs")


if __name__ == "__main__":
    sys.exit(main())
