# Kiosk screens, simplified Chinese (the default language).

station-name = 24小时政务服务e站
# The station's help line from its configuration, under an error.
help-phone-line = 需要帮助请拨打 { $phone }
station-name-short = 24小时政务服务e站
station-motto = 全天候自助服务 · 不打烊
attract-open = 24小时开放 · 自助服务可用
attract-degraded = 部分服务暂不可用
attract-services = 证明打印 · 原产地证书 · 办件查询 · 材料提交
attract-start = 点击屏幕开始
attract-start-hint = 按步骤提示操作即可
attract-start-short = 开始办理
attract-voice = 语音引导
attract-voice-hint = 看不清屏幕？按这里或按 F2 键
attract-languages = 简体中文 · 繁體中文 · English
banner-degraded = 网络或设备异常：部分服务暂停，已提交的事项将自动补发

language-title = 请选择语言
language-hint = 办理过程中可随时在上方切换

services-title = 请选择要办理的事项
services-hint = 目前开放的自助服务
services-loading = 正在获取服务列表…
services-none-open = 目前没有开放的自助服务，请在工作时间前往大厅窗口办理。

insert-card-title = 请插入社会保障卡
insert-card-reader = 读卡器
insert-card-card = 社会保障卡
insert-card-hint = 芯片朝上，插入屏幕下方的读卡器，办理完成前请不要拔卡。
demo-insert-card = 插入演示卡
identify-title = 请插卡，或扫描手机上的身份码
identify-picture = 终端正面示意图：1 号是读卡器，在屏幕下方；2 号是扫码窗口，在读卡器下方。
identify-card-title = 插入社会保障卡
identify-card-hint = 芯片朝上，插入 1 号读卡器，办理完成前请不要拔卡。
identify-phone-title = 没带卡？扫手机身份码
identify-phone-hint = 打开电子社保卡或政务服务 App 的身份码，屏幕朝下，放在 2 号扫码窗口上方约 10 厘米处，听到提示音即可。
checking-code-title = 正在核验身份码
checking-code-hint = 请稍候，通常几秒钟
goodbye-phone-reminder = 请带好您的手机和随身物品
demo-only = 仅演示模式

pin-title = 请输入卡片密码
pin-hint = 请用下方数字键输入社保卡密码
pin-wrong = 密码不正确，还可尝试 { $tries } 次
pin-wrong-next = 次数用完后卡片将被锁定，请在工作时间到服务窗口办理解锁。
keypad-delete = 删除
keypad-ok = 确定

reading-card-title = 正在读卡
reading-card-hint = 请不要拔出卡片，通常几秒钟
issuing-title = 正在开具证明
issuing-hint = 正在向政务服务平台申请，通常不超过半分钟
printing-title = 正在打印
printing-hint = 打印完成前请不要离开，约需半分钟

preview-title = 请核对证明内容
preview-hint = 确认无误后点击下方“打印”
preview-code = 验证码：{ $code }
preview-print = 打印

take-paper-title = 请取走打印的证明
take-paper-hint = 证明已从屏幕下方的出纸口送出
take-paper-done = 我已取走

rating-title = 请为本次服务评价
rating-hint = 您的评价将帮助我们改进服务
rating-good = 满意
rating-average = 一般
rating-bad = 不满意
rating-skip = 不评价

goodbye-title = 感谢使用
goodbye-rated = 评价已收到，谢谢！
goodbye-card-reminder = 请取回您的社会保障卡和随身物品
goodbye-done = 完成

nav-back = 返回
nav-home = 首页
elderly-toggle = 大字
voice-toggle = 语音
voice-toggle-on = 打开语音引导
voice-toggle-off = 关闭语音引导
error-retry = 重试
error-code-label = 验证码

idle-title = 您还在吗？
idle-countdown = { $seconds } 秒后将返回首页并清除您的信息
idle-more-time = 我需要更多时间

# Dates on the attract screen.
date-long = { $year }年{ $month }月{ $day }日 { $weekday }
weekday-1 = 星期一
weekday-2 = 星期二
weekday-3 = 星期三
weekday-4 = 星期四
weekday-5 = 星期五
weekday-6 = 星期六
weekday-7 = 星期日
month-1 = 1月
month-2 = 2月
month-3 = 3月
month-4 = 4月
month-5 = 5月
month-6 = 6月
month-7 = 7月
month-8 = 8月
month-9 = 9月
month-10 = 10月
month-11 = 11月
month-12 = 12月
# Pages of a list longer than the screen (page: "1 / 2").
page-previous = ‹ 上一页
page-next = 下一页 ›
page-of = 第 { $page } 页
